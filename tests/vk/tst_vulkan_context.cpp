// Vulkan core: device listing and the CONVSCOPE_DEVICE/--device override, the validation
// messenger's counter, the on-disk pipeline cache, the staging path for non-mappable memory,
// barriers only between dependent dispatches, and what `--backend auto` picks.
#include "ops/activation.h"
#include "test_support.h"
#include "vk/check.h"
#include "vk/kernels.h"

#include <QTemporaryDir>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace convscope;
using namespace convscope::testing;

class TestVulkanContext : public QObject {
    Q_OBJECT

private slots:
    void cleanup() { QVERIFY2(noValidationMessages(), "Vulkan validation reported messages"); }

    void listsDevices() {
        CS_REQUIRE_VULKAN(vk);
        auto devices = vk::Context::listDevices();
        QVERIFY2(devices.ok(), devices.status().message().c_str());
        QVERIFY(!devices->empty());
        QCOMPARE(devices->at(vk->context().info().index).name, vk->context().info().name);
    }

    void deviceOverrideByIndexAndName() {
        CS_REQUIRE_VULKAN(vk);
        const auto& chosen = vk->context().info();
        vk::ContextOptions byIndex{std::to_string(chosen.index), false};
        auto a = vk::Context::create(byIndex);
        QVERIFY2(a.ok(), a.status().message().c_str());
        QCOMPARE(a.value()->info().name, chosen.name);
        // A name fragment in another case works too.
        std::string fragment = chosen.name.substr(0, 4);
        for (auto& c : fragment)
            c = char(std::toupper(c));
        auto b = vk::Context::create({fragment, false});
        QVERIFY2(b.ok(), b.status().message().c_str());
    }

    void unknownDeviceListsTheAvailableOnes() {
        CS_REQUIRE_VULKAN(vk);
        auto r = vk::Context::create({"no-such-gpu-9000", false});
        QVERIFY(!r.ok());
        const std::string m = r.status().message();
        QVERIFY2(m.find("No Vulkan device matches 'no-such-gpu-9000'") != std::string::npos,
                 m.c_str());
        QVERIFY2(m.find(vk->context().info().name) != std::string::npos, m.c_str());
        auto bad = vk::Context::create({"99", false});
        QVERIFY(!bad.ok());
        // Past the range of any integer type: an error, not an abort.
        auto huge = vk::Context::create({"99999999999999999999999", false});
        QVERIFY(!huge.ok());
    }

    void validationMessengerCountsMessages() {
        CS_REQUIRE_VULKAN(vk);
        auto ctx = vk::Context::create({"", true});
        QVERIFY2(ctx.ok(), ctx.status().message().c_str());
        QVERIFY(ctx.value()->validationEnabled());
        QCOMPARE(ctx.value()->validationMessages(), 0u);
        ctx.value()->injectValidationMessageForTesting("convscope test message");
        QCOMPARE(ctx.value()->validationMessages(), 1u);
        // A real API misuse is caught: a buffer of size 0 is invalid usage.
        VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
        bi.size = 0;
        bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
        VkBuffer buffer = VK_NULL_HANDLE;
        if (vkCreateBuffer(ctx.value()->device(), &bi, nullptr, &buffer) == VK_SUCCESS && buffer)
            vkDestroyBuffer(ctx.value()->device(), buffer, nullptr);
        QVERIFY(ctx.value()->validationMessages() >= 2u);
    }

    void vkCheckReportsCallResultAndLocation() {
        auto f = []() -> Status {
            VK_CHECK(VK_ERROR_OUT_OF_DEVICE_MEMORY);
            return {};
        };
        const std::string m = f().message();
        QVERIFY2(m.find("VK_ERROR_OUT_OF_DEVICE_MEMORY") != std::string::npos, m.c_str());
        QVERIFY2(m.find("tst_vulkan_context.cpp:") != std::string::npos, m.c_str());
        QVERIFY2(m.find("Reduce the batch size") != std::string::npos, m.c_str());
    }

    void pipelineCacheIsKeptOnDisk() {
        CS_REQUIRE_VULKAN(vk);
        QTemporaryDir dir;
        qputenv("CONVSCOPE_CACHE_DIR", dir.path().toUtf8());
        std::string file;
        std::uint32_t vendor = 0;
        {
            BackendOptions o;
            o.validation = true;
            auto be = VulkanBackend::create(o);
            QVERIFY2(be.ok(), be.status().message().c_str());
            file = vk::KernelCache::cacheFilePath(be.value()->context());
            vendor = be.value()->context().properties().vendorID;
            QVERIFY(file.rfind(dir.path().toStdString(), 0) == 0);
            auto p = be.value()->kernels().get(vk::Kernel::ActivationForward);
            QVERIFY(p.ok());
            QCOMPARE(be.value()->kernels().pipelineCount(), std::size_t(1));
            QCOMPARE(be.value()->context().validationMessages(), 0u);
        } // saved here
        qunsetenv("CONVSCOPE_CACHE_DIR");
        QVERIFY(std::filesystem::exists(file));
        // The VkPipelineCache header: length 32, version ONE, vendor ID (lavapipe stores no more).
        std::ifstream in(file, std::ios::binary);
        std::uint32_t header[3] = {};
        in.read(reinterpret_cast<char*>(header), sizeof header);
        QVERIFY(std::filesystem::file_size(file) >= 32);
        QCOMPARE(header[0], 32u);
        QCOMPARE(header[1], std::uint32_t(VK_PIPELINE_CACHE_HEADER_VERSION_ONE));
        QCOMPARE(header[2], vendor);
    }

    void stagingPathRoundTrips() {
        CS_REQUIRE_VULKAN(vk);
        BackendOptions o;
        o.validation = true;
        o.allowMapping = false; // as on a discrete GPU: device memory reached through copies
        auto be = VulkanBackend::create(o);
        QVERIFY2(be.ok(), be.status().message().c_str());
        VulkanBackend& b = *be.value();
        Tensor x = b.tensor({1000}), y = b.tensor({1000});
        CS_VERIFY_OK(b.allocate());
        auto in = asFloat(uniform(1000, 1));
        CS_VERIFY_OK(b.writeReal(x, in));
        CS_VERIFY_OK(runOnce(b, [&] { return ops::reluForward(b, x, y); }));
        auto out = b.readReal(y);
        QVERIFY(out.ok());
        for (std::size_t i = 0; i < in.size(); ++i)
            QCOMPARE(out.value()[i], std::max(in[i], 0.0));
        QCOMPARE(b.context().validationMessages(), 0u);
    }

    void barriersOnlyBetweenDependentDispatches() {
        CS_REQUIRE_VULKAN(vk);
        CS_VERIFY_OK(vk->reset());
        Tensor a = vk->tensor({256}), b = vk->tensor({256}), c = vk->tensor({256}),
               d = vk->tensor({256});
        CS_VERIFY_OK(vk->allocate());
        CS_VERIFY_OK(vk->beginProgram());
        CS_VERIFY_OK(ops::reluForward(*vk, a, b)); // independent of the next
        CS_VERIFY_OK(ops::reluForward(*vk, a, c));
        auto independent = vk->endProgram();
        QVERIFY(independent.ok());
        QCOMPARE(vk->barriersInProgram(*independent), std::size_t(0));
        CS_VERIFY_OK(vk->beginProgram());
        CS_VERIFY_OK(ops::reluForward(*vk, a, b));
        CS_VERIFY_OK(ops::reluForward(*vk, b, c)); // reads what the first wrote
        CS_VERIFY_OK(ops::reluForward(*vk, d, b)); // overwrites what the second reads
        auto chain = vk->endProgram();
        QVERIFY(chain.ok());
        QCOMPARE(vk->barriersInProgram(*chain), std::size_t(2));
        QCOMPARE(vk->dispatchesInProgram(*chain), std::size_t(3));
    }

    void opsOutsideAProgramAreRejected() {
        CS_REQUIRE_VULKAN(vk);
        CS_VERIFY_OK(vk->reset());
        Tensor a = vk->tensor({8}), b = vk->tensor({8});
        CS_VERIFY_OK(vk->allocate());
        Status s = ops::reluForward(*vk, a, b);
        QVERIFY(!s.ok());
        QVERIFY(s.message().find("outside beginProgram") != std::string::npos);
        CpuBackend<float> cpu;
        Tensor c = cpu.tensor({8}), d = cpu.tensor({8});
        CS_VERIFY_OK(cpu.allocate());
        QVERIFY(!ops::reluForward(cpu, c, d).ok());
    }

    // An op that fails while recording must not leave the backend stuck "recording".
    void failedRecordingLeavesTheBackendUsable_data() {
        QTest::addColumn<bool>("vulkanBackend");
        QTest::newRow("vulkan") << true;
        QTest::newRow("cpu") << false;
    }
    void failedRecordingLeavesTheBackendUsable() {
        QFETCH(bool, vulkanBackend);
        CpuBackend<float> cpu;
        Backend* be = &cpu;
        if (vulkanBackend) {
            CS_REQUIRE_VULKAN(vk);
            be = vk;
        }
        CS_VERIFY_OK(be->reset());
        Tensor a = be->tensor({8}), b = be->tensor({9});
        CS_VERIFY_OK(be->allocate());
        auto failed = be->record([&] { return ops::reluForward(*be, a, b); });
        QVERIFY(!failed.ok());
        QVERIFY(!be->recording());
        auto fine = be->record([&] { return ops::reluForward(*be, a, a); });
        QVERIFY2(fine.ok(), fine.status().message().c_str());
        // A half-recorded program is also dropped by reset().
        CS_VERIFY_OK(be->beginProgram());
        CS_VERIFY_OK(be->reset());
        QVERIFY(!be->recording());
    }

    void planningMistakesAreReported() {
        CpuBackend<float> cpu;
        Tensor a = cpu.tensor({4});
        Tensor misaligned = cpu.view(a, 1, {2});
        QVERIFY(!misaligned.valid());
        QVERIFY(!cpu.view(a, 0, {5}).valid()); // outside its parent
        CS_VERIFY_OK(cpu.allocate());
        Tensor late = cpu.tensor({4});
        QVERIFY(!late.valid());
        Status s = cpu.record([&] { return ops::reluForward(cpu, a, late); }).status();
        QVERIFY(s.message().find("is not allocated") != std::string::npos);
        CS_VERIFY_OK(cpu.reset());
        (void)cpu.tensor({0});
        Status empty = cpu.allocate();
        QVERIFY(!empty.ok());
        QVERIFY2(empty.message().find("has no elements") != std::string::npos,
                 empty.message().c_str());
    }

    void tuningFollowsTheDeviceType() {
        CS_REQUIRE_VULKAN(vk);
        QCOMPARE(QString::fromStdString(vk->tuning().profile),
                 vk->context().info().isCpu() ? QString("cpu") : QString("gpu"));
        QCOMPARE(QString::fromStdString(vulkanWithGpuTuning()->tuning().profile), QString("gpu"));
        BackendOptions o;
        o.tuning = "fast";
        auto bad = VulkanBackend::create(o);
        QVERIFY(!bad.ok());
        QVERIFY(bad.status().message().find("unknown tuning profile 'fast'") != std::string::npos);
    }

    void autoPicksCpuOnLavapipeAndVulkanOnAGpu() {
        CS_REQUIRE_VULKAN(vk);
        BackendOptions o;
        o.backend = "auto";
        auto c = createBackend(o);
        QVERIFY2(c.ok(), c.status().message().c_str());
        if (vk->context().info().isGpu())
            QCOMPARE(c->backend->kind(), BackendKind::Vulkan);
        else
            QCOMPARE(c->backend->kind(), BackendKind::CpuFloat);
        QVERIFY(!c->reason.empty());
        o.backend = "quantum";
        auto bad = createBackend(o);
        QVERIFY(!bad.ok());
        QVERIFY(bad.status().message().find("Use auto, vulkan, cpu or cpu-double") !=
                std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestVulkanContext)
#include "tst_vulkan_context.moc"
