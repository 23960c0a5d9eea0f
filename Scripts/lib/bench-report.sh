# Report of Scripts/bench.sh (sourced): medians and spreads per arm and metric from the raw
# rows in $BENCH_RUNS, printed tables with ratios to kernel vxlan and to the baseline, CSV
# files and a gnuplot bar chart in $BENCH_OUT.

# Metric, column title, format (the order of the tables).
BENCH_METRICS=(
  "tcp_fwd_gbps|TCP→ Gb/s|%.2f"
  "tcp_rev_gbps|TCP← Gb/s|%.2f"
  "tcp4_fwd_gbps|TCP×4 Gb/s|%.2f"
  "udp64_kpps|UDP64 kpps|%.1f"
  "udp64_loss_pct|loss %|%.1f"
  "udp64_vxlan_rate_loss_pct|loss@vx %|%.2f"
  "udp1400_gbps|UDP1400 Gb/s|%.3f"
  "rtt_avg_ms|RTT ms|%.3f"
  "rtt_p50_ms|p50 ms|%.3f"
  "rtt_p99_ms|p99 ms|%.3f"
  "cpu_sys_s_per_gb|CPUsys s/GB|%.2f"
  "cpu_fwd_s_per_gb|CPUfwd s/GB|%.2f"
  "pkts_per_sub|pkts/sub|%.2f"
  "pkts_per_sub_tcp|pkts/sub TCP|%.1f"
  "iou_wrk|iou-wrk|%.0f"
  "idle_cpu_pct|idle CPU %|%.2f"
  "tcp_steal_pct|steal %|%.1f"
  "hops_ours_us|ours µs|%.0f"
  "hops_kernel_us|kernel µs|%.0f"
)
# Metrics whose spread over the repeats is printed (min–max and max/min).
BENCH_SPREAD_METRICS=(tcp_fwd_gbps tcp_rev_gbps tcp4_fwd_gbps udp64_kpps udp64_loss_pct
  udp64_vxlan_rate_loss_pct udp1400_gbps rtt_avg_ms rtt_p50_ms rtt_p99_ms)
# Metrics that get ratio columns (higher is better except RTT).
BENCH_RATIO_METRICS=(tcp_fwd_gbps tcp_rev_gbps tcp4_fwd_gbps udp64_kpps udp1400_gbps rtt_avg_ms cpu_sys_s_per_gb)

# summary.csv: arm,metric,median,min,max,n (median of an even count = mean of the middle two).
bench_summarise() {
  echo "arm,metric,median,min,max,n" >"$BENCH_OUT/summary.csv"
  tail -n +2 "$BENCH_RUNS" | sort -t, -k1,1 -k3,3 -k4,4g | awk -F, '
    function flush() {
      if (n == 0) return
      med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
      printf "%s,%s,%g,%g,%g,%d\n", a, m, med, v[1], v[n], n
    }
    { if ($1 != a || $3 != m) { flush(); n = 0; a = $1; m = $3 }; v[++n] = $4 }
    END { flush() }' >>"$BENCH_OUT/summary.csv"
}

bench_stat() { # ARM METRIC FIELD(median|min|max)
  awk -F, -v a="$1" -v m="$2" -v f="$3" '
    $1 == a && $2 == m { print (f == "median") ? $3 : (f == "min") ? $4 : $5 }' \
    "$BENCH_OUT/summary.csv"
}

bench_arm_status() { awk -F, -v a="$1" '$1 == a { print $2 }' "$BENCH_OUT/status.csv" | tail -1; }
bench_arm_reason() {
  awk -F, -v a="$1" '$1 == a { $1 = ""; $2 = ""; sub(/^,+/, ""); print }' OFS=, \
    "$BENCH_OUT/status.csv" | tail -1
}

bench_fmt() { # FORMAT VALUE
  [ -n "$2" ] && printf "$1" "$2" || printf -- "-"
}

bench_print_tables() {
  local arm spec metric title fmt row
  local -a cols
  {
    echo
    echo "== medians of $BENCH_REPEATS repeat(s), ${BENCH_SECONDS}s per iperf3 run, $BENCH_PINGS pings"
    printf "%-16s" arm
    for spec in "${BENCH_METRICS[@]}"; do IFS='|' read -r _ title _ <<<"$spec"; printf " %12s" "$title"; done
    echo
    for arm in "${BENCH_ARMS[@]}"; do
      case $(bench_arm_status "$arm") in
        ok) ;;
        *) printf "%-16s %s\n" "$arm" "$(bench_arm_status "$arm"): $(bench_arm_reason "$arm")"; continue ;;
      esac
      printf "%-16s" "$arm"
      for spec in "${BENCH_METRICS[@]}"; do
        IFS='|' read -r metric _ fmt <<<"$spec"
        printf " %12s" "$(bench_fmt "$fmt" "$(bench_stat "$arm" "$metric" median)")"
      done
      echo
    done
    if [ "$BENCH_REPEATS" -gt 1 ]; then
      echo
      echo "== spread over the repeats: min–max (max/min)"
      printf "%-16s" arm
      for metric in "${BENCH_SPREAD_METRICS[@]}"; do printf " %22s" "$(bench_title "$metric")"; done
      echo
      for arm in "${BENCH_ARMS[@]}"; do
        [ "$(bench_arm_status "$arm")" = ok ] || continue
        printf "%-16s" "$arm"
        for metric in "${BENCH_SPREAD_METRICS[@]}"; do
          local lo hi fmt ratio
          fmt=$(bench_format "$metric")
          lo=$(bench_stat "$arm" "$metric" min); hi=$(bench_stat "$arm" "$metric" max)
          ratio=$(awk -v l="$lo" -v h="$hi" 'BEGIN { if (l > 0) printf "%.2f", h / l; else printf "-" }')
          printf " %22s" "$(bench_fmt "$fmt" "$lo")–$(bench_fmt "$fmt" "$hi") ($ratio)"
        done
        echo
      done
    fi
    echo
    echo "== ratios of medians: ×vxlan / ×baseline (RTT and CPU: lower is better)"
    printf "%-16s" arm
    for metric in "${BENCH_RATIO_METRICS[@]}"; do printf " %17s" "$metric"; done
    echo
    for arm in "${BENCH_ARMS[@]}"; do
      [ "$(bench_arm_status "$arm")" = ok ] || continue
      printf "%-16s" "$arm"
      for metric in "${BENCH_RATIO_METRICS[@]}"; do
        printf " %17s" "$(bench_ratio "$arm" "$metric" vxlan) / $(bench_ratio "$arm" "$metric" baseline)"
      done
      echo
    done
    echo
    echo "notes:"
    for arm in "${BENCH_ARMS[@]}"; do
      [ "$(bench_arm_status "$arm")" = ok ] && printf "  %-14s %s\n" "$arm" "$(bench_arm_reason "$arm")"
    done
    echo "  TCP→: container 1 -> container 2 (iperf3 client sends); TCP←: iperf3 -R; TCP×4: -P 4 →."
    echo "  loss@vx: 64 B UDP offered at the rate kernel vxlan delivered in the same repeat."
    echo "  UDP64: iperf3 -u -l 64 -b 0, packets delivered at the receiver per second; loss of offered."
    echo "  CPUsys: whole-machine non-idle CPU (/proc/stat, includes iperf3) per GB over both TCP runs;"
    echo "  CPUfwd: utime+stime of the forwarder processes (/proc/<pid>/stat), userspace arms only."
    echo "  iou-wrk: most iou-wrk threads seen in the forwarder processes (sampled every 0.2 s;"
    echo "  machine-wide count, ps -eLo comm, in runs.csv as iou_wrk_machine)."
    echo "  pkts/sub: inner packets moved per io_uring_enter over the whole arm, from flanneld's"
    echo "  /metrics (flannel_udp_forwarder_*) just before it stops; pkts/sub TCP: inner packets per"
    echo "  io_uring_enter during the TCP runs, from flanneld's /metrics on both hosts."
    echo "  RTT, p50, p99: ping every 10 ms ($BENCH_PINGS per repeat); idle CPU %: utime+stime of a"
    echo "  forwarding process over ${BENCH_IDLE_SECONDS}s without traffic, % of one core (first repeat)."
    echo "  steal %: the hypervisor's steal time during the kept TCP runs (/proc/stat), % of the"
    echo "  machine; an iperf3 run with more than $BENCH_MAX_STEAL % steal was measured again (at most"
    echo "  $BENCH_STEAL_RERUNS times): re-runs per arm: $(awk -F, '$3 == "steal_reruns" { n[$1]++ }
      END { for (a in n) printf "%s %d  ", a, n[a] }' "$BENCH_RUNS" | sed 's/ *$//')" |
      sed 's/re-runs per arm: $/re-runs per arm: none/'
    echo "  ours / kernel µs (--hops): median time of a ping's round trip in the forwarders' four hops"
    echo "  (flannel0 to UDP send, UDP receive to flannel0, both hosts) and in the kernel's (hops.txt)."
  } | tee "$BENCH_OUT/table.txt"
}

bench_metric_part() { # METRIC N: field N of its BENCH_METRICS entry (2 title, 3 format)
  local spec
  for spec in "${BENCH_METRICS[@]}"; do
    [ "${spec%%|*}" = "$1" ] && { cut -d'|' -f"$2" <<<"$spec"; return; }
  done
  [ "$2" = 2 ] && echo "$1" || echo "%g"
}
bench_title() { bench_metric_part "$1" 2; }
bench_format() { bench_metric_part "$1" 3; }

# The RTT histogram of every arm over all its repeats (pings.csv): share of pings per bin.
bench_print_histogram() {
  [ "$(wc -l <"$BENCH_PING_SAMPLES")" -gt 1 ] || return 0
  {
    echo
    echo "== ping RTT histogram, all repeats: % of replies per bin (ms); n = replies, p50 / p99"
    awk -F, -v arms="${BENCH_ARMS[*]}" '
      BEGIN {
        nb = split("0.1 0.15 0.2 0.25 0.3 0.4 0.5 0.75 1 2", edge, " ")
        na = split(arms, arm, " ")
        printf "%-11s", "bin"
        for (i = 1; i <= na; i++) printf " %15s", arm[i]
        printf "\n"
      }
      NR > 1 {
        b = nb + 1
        for (i = 1; i <= nb; i++) if ($3 + 0 < edge[i] + 0) { b = i; break }
        count[$1, b]++; total[$1]++
      }
      END {
        for (b = 1; b <= nb + 1; b++) {
          label = (b == 1) ? "< " edge[1] : (b <= nb) ? edge[b - 1] "-" edge[b] : ">= " edge[nb]
          printf "%-11s", label
          for (i = 1; i <= na; i++) {
            a = arm[i]
            if (total[a] > 0) printf " %15.1f", 100 * count[a, b] / total[a]; else printf " %15s", "-"
          }
          printf "\n"
        }
        printf "%-11s", "n"
        for (i = 1; i <= na; i++) printf " %15d", total[arm[i]]
        printf "\n"
      }' "$BENCH_PING_SAMPLES"
    local arm
    printf "%-11s" "p50 / p99"
    for arm in "${BENCH_ARMS[@]}"; do
      printf " %15s" "$(awk -F, -v a="$arm" '$1 == a { print $3 }' "$BENCH_PING_SAMPLES" | sort -g | awk '
        function rank(q) { r = int(q * NR + 0.999999); return r < 1 ? 1 : r }
        { v[NR] = $1 } END { if (NR) printf "%.3f / %.3f", v[rank(0.5)], v[rank(0.99)]; else printf "-" }')"
    done
    echo
  } | tee -a "$BENCH_OUT/table.txt"
}

bench_ratio() { # ARM METRIC REFERENCE_ARM
  local a b
  a=$(bench_stat "$1" "$2" median)
  b=$(bench_stat "$3" "$2" median)
  if [ -n "$a" ] && [ -n "$b" ]; then
    awk -v a="$a" -v b="$b" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'
  else
    printf -- "-"
  fi
}

# chart.png: six panels (TCP→, TCP×4, UDP 64 B kpps, UDP 1400 B Gb/s, RTT, CPU/GB), median bars with
# min–max error bars, only arms that ran.
bench_chart() {
  if ! command -v gnuplot >/dev/null; then
    echo "note: gnuplot not installed, no chart" | tee -a "$BENCH_OUT/table.txt"
    return 0
  fi
  local metric arm med
  for metric in tcp_fwd_gbps tcp4_fwd_gbps udp64_kpps udp1400_gbps rtt_avg_ms cpu_sys_s_per_gb; do
    : >"$BENCH_OUT/chart-$metric.dat"
    for arm in "${BENCH_ARMS[@]}"; do
      med=$(bench_stat "$arm" "$metric" median)
      [ -n "$med" ] || continue
      echo "$arm $med $(bench_stat "$arm" "$metric" min) $(bench_stat "$arm" "$metric" max)" \
        >>"$BENCH_OUT/chart-$metric.dat"
    done
  done
  local panel plot=""
  for panel in "tcp_fwd_gbps|single-stream TCP, Gbit/s" "tcp4_fwd_gbps|4 TCP streams, Gbit/s" \
    "udp64_kpps|UDP 64 B delivered, kpps" "udp1400_gbps|UDP 1400 B delivered, Gbit/s" \
    "rtt_avg_ms|ping RTT average, ms" "cpu_sys_s_per_gb|CPU seconds per GB (TCP), lower is better"; do
    IFS='|' read -r metric title <<<"$panel"
    if [ -s "$BENCH_OUT/chart-$metric.dat" ]; then
      plot+="set title '$title'; plot '$BENCH_OUT/chart-$metric.dat' using 2:3:4:xtic(1) notitle lc rgb '#4472c4', '' using 0:2:(sprintf('%.3g', \$2)) with labels offset 0,0.7 notitle;"$'\n'
    else
      plot+="set title '$title (no data)'; unset xtics; plot 0 notitle; set xtics;"$'\n'
    fi
  done
  gnuplot <<EOF 2>"$BENCH_OUT/gnuplot.log" || { echo "note: gnuplot failed, see $BENCH_OUT/gnuplot.log"; return 0; }
set terminal pngcairo size 1800,900 font ',10'
set output '$BENCH_OUT/chart.png'
set multiplot layout 2,3 title 'swift-flannel bench ($(date -u +%Y-%m-%dT%H:%MZ), median of $BENCH_REPEATS, bars = min–max)'
set style data histogram
set style histogram errorbars gap 1 lw 1
set style fill solid 0.7 border -1
set yrange [0:*]
set xtics rotate by -20
set grid ytics
$plot
unset multiplot
EOF
  echo "chart: $BENCH_OUT/chart.png"
}
