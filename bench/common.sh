# Shared by the bench/*.sh scripts (sourced): median/range statistics and the table rows.

# median and "min-max" of numbers on stdin, as "median min-max"
stats() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)], v[1] "-" v[NR]}'; }

# row LABEL MEDIAN RANGE: one table line with the ratio to $torch_med
row() { printf '%-52s %9s  %-15s %7.2fx\n' "$1" "$2" "($3)" "$(echo "$2 / $torch_med" | bc -l)"; }

# the first Vulkan device's name, shortened
vulkan_device() {
  "$1" devices | head -1 | sed "s/^[0-9]*: //; s/ (CPU.*//; s/ (discrete.*//; s/ (integrated.*//"
}

# summarise CLI TITLE: the table of the three engines from $torch_ips, $cpu_ips, $vk_ips
# ("median range" each), under TITLE
summarise() {
  device=$(vulkan_device "$1")
  read -r torch_med torch_range <<<"$torch_ips"
  read -r cpu_med cpu_range <<<"$cpu_ips"
  read -r vk_med vk_range <<<"$vk_ips"
  printf '\n%s; %s, %s cores\n' "$2" "$(date -u +%F)" "$(nproc)"
  print_table
}

# print_table: the three engines' rows (needs torch_*, cpu_*, vk_* and device set)
print_table() {
  printf '%-52s %9s  %-15s %8s\n' engine "images/s" "(range)" "vs torch"
  row "PyTorch CPU (2 threads, OpenBLAS)" "$torch_med" "$torch_range"
  row "convscope --backend cpu (Eigen, 2 threads)" "$cpu_med" "$cpu_range"
  row "convscope --backend vulkan ($device)" "$vk_med" "$vk_range"
}
