// curl_easy_setopt / curl_easy_getinfo / curl_multi_setopt are variadic and so
// unavailable in Swift: these typed wrappers are the only way in.
#include <curl/curl.h>

static inline CURLcode flannel_curl_setopt_long(CURL *h, CURLoption o, long v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode flannel_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode flannel_curl_setopt_string(CURL *h, CURLoption o, const char *v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode flannel_curl_setopt_pointer(CURL *h, CURLoption o, void *v) {
  return curl_easy_setopt(h, o, v);
}
static inline CURLcode flannel_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) {
  return curl_easy_setopt(h, o, v);
}
typedef size_t (*flannel_curl_write_cb)(char *, size_t, size_t, void *);
static inline CURLcode flannel_curl_setopt_write_cb(CURL *h, CURLoption o, flannel_curl_write_cb cb) {
  return curl_easy_setopt(h, o, cb);
}
typedef int (*flannel_curl_xferinfo_cb)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
static inline CURLcode flannel_curl_setopt_xferinfo_cb(CURL *h, flannel_curl_xferinfo_cb cb) {
  return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cb);
}
static inline CURLcode flannel_curl_getinfo_long(CURL *h, CURLINFO i, long *v) {
  return curl_easy_getinfo(h, i, v);
}
static inline CURLcode flannel_curl_getinfo_pointer(CURL *h, CURLINFO i, void **v) {
  return curl_easy_getinfo(h, i, v);
}
static inline CURLMcode flannel_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) {
  return curl_multi_setopt(m, o, v);
}

// CURLMsg carries its result in an anonymous union; these read it without Swift having to
// know how the union was imported.
static inline int flannel_curl_msg_is_done(const CURLMsg *m) { return m->msg == CURLMSG_DONE; }
static inline CURLcode flannel_curl_msg_result(const CURLMsg *m) { return m->data.result; }
static inline CURL *flannel_curl_msg_easy(const CURLMsg *m) { return m->easy_handle; }
// CURLAUTH_BASIC is a shifted-cast macro that Swift does not import.
static inline CURLcode flannel_curl_setopt_basic_auth(CURL *h) {
  return curl_easy_setopt(h, CURLOPT_HTTPAUTH, (unsigned long)CURLAUTH_BASIC);
}
