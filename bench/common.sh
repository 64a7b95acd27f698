# Shared by the bench/*.sh scripts (sourced): median/range statistics and the table rows.

# median and "min-max" of numbers on stdin, as "median min-max"
stats() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)], v[1] "-" v[NR]}'; }

# row LABEL MEDIAN RANGE: one table line with the ratio to $torch_med
row() { printf '%-52s %9s  %-15s %7.2fx\n' "$1" "$2" "($3)" "$(echo "$2 / $torch_med" | bc -l)"; }

# the first Vulkan device's name, shortened
vulkan_device() {
  "$1" devices | head -1 | sed "s/^[0-9]*: //; s/ (CPU.*//; s/ (discrete.*//; s/ (integrated.*//"
}

# summarise CLI TITLE: the table of the engines from $torch_ips, $cpu_ips, $vk_ips ("median
# range" each; an empty one is left out), under TITLE
summarise() {
  device=$(vulkan_device "$1")
  read -r torch_med torch_range <<<"$torch_ips"
  read -r cpu_med cpu_range <<<"${cpu_ips:-}"
  read -r vk_med vk_range <<<"${vk_ips:-}"
  printf '\n%s; %s, %s cores\n' "$2" "$(date -u +%F)" "$(nproc)"
  print_table
}

# print_table: the engines' rows (needs torch_*, cpu_*, vk_* and device set; torch_label and
# tiles, the Vulkan tile profile, when set)
print_table() {
  printf '%-52s %9s  %-15s %8s\n' engine "images/s" "(range)" "vs torch"
  row "${torch_label:-PyTorch CPU (2 threads, OpenBLAS)}" "$torch_med" "$torch_range"
  [ -n "${cpu_med:-}" ] && row "convscope --backend cpu (own kernels, 2 threads)" "$cpu_med" "$cpu_range"
  [ -n "${vk_med:-}" ] &&
    row "convscope --backend vulkan ($device${tiles:+, $tiles tiles})" "$vk_med" "$vk_range"
  return 0
}
