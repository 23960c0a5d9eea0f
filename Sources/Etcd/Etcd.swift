// Etcd: the etcd client over libcurl.
