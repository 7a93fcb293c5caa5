#pragma once
// Accelerator backends (Vulkan today) reach their callers through this registry, so code that
// chooses a device never depends on the library that drives it: the executable (app/) registers
// what it was linked with, and the UI and engine sessions only see the interface below. The
// registry is a plain object the program owns and hands down, not a global: two windows or two
// tests can hold different sets of backends.
//
// Fill it before sharing it; after that it is read-only and safe to read from any thread.
#include "runtime/backend.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tenfold {

// One device an accelerator backend can run on.
struct AcceleratorDevice {
    int index = -1;                // the backend's own device index, for create()
    std::string name;
    uint64_t deviceLocalBytes = 0; // largest device-local heap
    uint64_t freeBytes = 0;        // 0 when the driver does not report a budget
    bool software = false;         // a CPU implementation (e.g. lavapipe): slower than our CPU backend
};

class AcceleratorBackendFactory {
public:
    virtual ~AcceleratorBackendFactory() = default;
    // Short stable key ("vulkan"), also the prefix of device tags in the usage ledger.
    virtual std::string kind() const = 0;
    // Usable devices in the backend's order; may be slow (creates a driver instance). Throws when
    // the driver stack cannot be queried at all.
    virtual std::vector<AcceleratorDevice> listDevices() const = 0;
    // Throws DeviceError when the device cannot be opened.
    virtual std::unique_ptr<Backend> create(int deviceIndex) const = 0;
};

class BackendRegistry {
public:
    // Replaces a factory of the same kind.
    void add(std::shared_ptr<const AcceleratorBackendFactory> factory);
    // nullptr when no factory of that kind was registered.
    const AcceleratorBackendFactory* find(std::string_view kind) const;
    bool has(std::string_view kind) const { return find(kind) != nullptr; }
    const std::vector<std::shared_ptr<const AcceleratorBackendFactory>>& factories() const { return factories_; }

private:
    std::vector<std::shared_ptr<const AcceleratorBackendFactory>> factories_;
};

} // namespace tenfold
