# The fuzz targets, one per untrusted input: tests/fuzz/<target>.cpp, seeds in corpus/<target>/.
# Read by tests/fuzz/CMakeLists.txt (the libFuzzer build) and tests/CMakeLists.txt (the replay).
set(CONVSCOPE_FUZZ_TARGETS idx cifar safetensors netspec image_folder metrics_csv)
