// OpTest: the slots every op test shares.
#include "op_test.h"

namespace convscope::testing {

void OpTest::cleanup() {
    QVERIFY2(noValidationMessages(), "Vulkan validation reported messages");
}

void OpTest::vulkanMatchesReference() {
    CS_REQUIRE_VULKAN(vk);
    compare(*vk);
}

void TunedOpTest::vulkanGpuTilesMatchReference() {
    CS_REQUIRE_VULKAN(vk);
    compare(*vulkanWithGpuTuning());
}

} // namespace convscope::testing
