#!/bin/sh
# mk-docker-opts.sh: turns flannel's subnet.env into Docker daemon options.
#
# Drop-in for the script shipped with flannel: same flags, same output file format, so that
# distribution unit files (e.g. ExecStartPost=mk-docker-opts.sh -k DOCKER_NETWORK_OPTIONS
# -d /run/flannel/docker) work unchanged. POSIX sh only. A dual-stack subnet.env's
# FLANNEL_IPV6_NETWORK / FLANNEL_IPV6_SUBNET give no option, as with flannel's script (it has
# none for IPv6 at any version): Docker's --ipv6 / --fixed-cidr-v6 stay the operator's choice.

print_usage() {
	cat >&2 <<USAGE
Usage: $0 [-f FLANNEL-ENV-FILE] [-d DOCKER-ENV-FILE] [-i] [-c] [-m] [-k COMBINED-KEY]

Writes Docker daemon options derived from flannel's environment file.
  -f FILE  flannel environment file to read (default /run/flannel/subnet.env)
  -d FILE  Docker environment file to write (default /run/docker_opts.env)
  -i       write each option as its own DOCKER_OPT_* variable
  -c       write all options combined into one variable
           (neither -i nor -c: both)
  -k KEY   name of the combined variable (default DOCKER_OPTS)
  -m       leave out --ip-masq (for old Docker versions)
USAGE
	exit 1
}

flannel_env=/run/flannel/subnet.env
docker_env=/run/docker_opts.env
combined_key=DOCKER_OPTS
want_individual=no
want_combined=no
want_ipmasq=yes

while getopts "f:d:icmk:h" flag; do
	case $flag in
	f) flannel_env=$OPTARG ;;
	d) docker_env=$OPTARG ;;
	i) want_individual=yes ;;
	c) want_combined=yes ;;
	m) want_ipmasq=no ;;
	k) combined_key=$OPTARG ;;
	*) print_usage ;;
	esac
done

if [ "$want_individual" = no ] && [ "$want_combined" = no ]; then
	want_individual=yes
	want_combined=yes
fi

case $combined_key in
'' | [0-9]* | *[!A-Za-z0-9_]*)
	echo "Invalid combined variable name: $combined_key" >&2
	exit 1
	;;
esac

# Values already in the environment count too; the file, when present, overrides them.
if [ -f "$flannel_env" ]; then
	. "$flannel_env"
fi

if [ -n "$FLANNEL_SUBNET" ]; then
	DOCKER_OPT_BIP="--bip=$FLANNEL_SUBNET"
fi
if [ -n "$FLANNEL_MTU" ]; then
	DOCKER_OPT_MTU="--mtu=$FLANNEL_MTU"
fi
# When flannel masquerades (FLANNEL_IPMASQ=true), Docker must not, and the other way round.
if [ -n "$FLANNEL_IPMASQ" ] && [ "$want_ipmasq" = yes ]; then
	case $FLANNEL_IPMASQ in
	true) DOCKER_OPT_IPMASQ="--ip-masq=false" ;;
	false) DOCKER_OPT_IPMASQ="--ip-masq=true" ;;
	*)
		echo "Invalid value of FLANNEL_IPMASQ: $FLANNEL_IPMASQ" >&2
		exit 1
		;;
	esac
fi

# The combined value starts from what the environment already holds under that name.
eval "combined=\${$combined_key}"
if [ -n "$combined" ]; then
	combined="$combined "
fi

: >"$docker_env" || exit 1

# Every DOCKER_OPT_* variable, in name order (the ones set above and any from the
# environment), each as NAME="value" and appended to the combined value.
option_names=$(set | sed -n 's/^\(DOCKER_OPT_[A-Za-z0-9_]*\)=.*/\1/p' | LC_ALL=C sort -u)
for name in $option_names; do
	eval "value=\${$name}"
	if [ "$want_individual" = yes ]; then
		printf '%s="%s"\n' "$name" "$value" >>"$docker_env"
	fi
	combined="$combined $value"
done

if [ "$want_combined" = yes ]; then
	printf '%s="%s"\n' "$combined_key" "$combined" >>"$docker_env"
fi

# Since flannel v0.18: refuse a FLANNEL_SUBNET that the routing table already sends through
# a gateway (another network owns it), after writing the file, as flannel does.
if [ -n "$FLANNEL_SUBNET" ] && command -v ip >/dev/null 2>&1; then
	subnet_address=${FLANNEL_SUBNET%/*}
	subnet_length=${FLANNEL_SUBNET#*/}
	last_octet=${subnet_address##*.}
	if [ "$subnet_length" != "$FLANNEL_SUBNET" ] && [ "$last_octet" -gt 0 ] 2>/dev/null; then
		subnet_network="${subnet_address%.*}.$((last_octet - 1))/$subnet_length"
		if ip route show | awk -v net="$subnet_network" '$1 == net && $2 == "via" { found = 1 }
			END { exit !found }'; then
			echo "Your routing table already contains the subnet: $subnet_network" >&2
			exit 1
		fi
	fi
fi
exit 0
