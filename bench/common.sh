# What bench/run and bench/store share, sourced by both after they define `say` and `die`.

# apt_install PACKAGE...: Debian packages, as root directly, anyone else through sudo.
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
apt_install() {
  command -v apt-get >/dev/null || die "$* missing and there is no apt-get: install $* yourself"
  say "installing $* with apt-get"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# Figures of a wrk output file.
rps_of() { awk '/^Requests\/sec:/ { print $2 }' "$1"; }
# A percentile (`99%`, `50%`) in ms, from wrk's latency distribution (us, ms or s).
percentile_of() {
  awk -v p="$1" '$1 == p {
    v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
    if (u == "us") v /= 1000; else if (u == "s") v *= 1000; else if (u == "m") v *= 60000
    printf "%.2f", v }' "$2"
}
p99_of() { percentile_of 99% "$1"; }
p50_of() { percentile_of 50% "$1"; }
# Requests answered other than 2xx/3xx, plus socket errors.
errors_of() {
  awk '/Non-2xx or 3xx responses:/ { n += $NF }
    /Socket errors:/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i }
    END { print n + 0 }' "$1"
}
