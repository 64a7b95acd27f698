// OpTest: the base of every op test. It runs the derived class's cases() rows through compare()
// on the Vulkan backend and on CpuBackend<float>, each against the CpuBackend<double> oracle
// m_ref, and fails any test after which Vulkan validation reported a message.
#pragma once

#include "test_support.h"
#include <QObject>

namespace convscope::testing {

class OpTest : public QObject {
    Q_OBJECT

protected:
    // Adds the data columns and rows; `kind` says which backend is under test.
    virtual void cases(BackendKind kind) = 0;
    // QFETCHes the row, runs it on `be` and on m_ref, and compares.
    virtual void compare(Backend& be) = 0;

    CpuBackend<double> m_ref;
    CpuBackend<float> m_cpu;

private slots:
    void cleanup();
    void vulkanMatchesReference_data() { cases(BackendKind::Vulkan); }
    void vulkanMatchesReference();
    void cpuFloatMatchesReference_data() { cases(BackendKind::CpuFloat); }
    void cpuFloatMatchesReference() { compare(m_cpu); }
};

// For ops whose Vulkan kernels take their tile sizes from vk::Tuning: every case also runs with
// the tiles a GPU would get, so those are tested on lavapipe too.
class TunedOpTest : public OpTest {
    Q_OBJECT

private slots:
    void vulkanGpuTilesMatchReference_data() { cases(BackendKind::Vulkan); }
    void vulkanGpuTilesMatchReference();
};

} // namespace convscope::testing
