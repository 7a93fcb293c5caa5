#pragma once
// Registers the accelerator backends this build was linked with (Vulkan when gpu/ was built).
// Kept apart from main() so the GUI tests register exactly what the app does.
#include "runtime/backend_registry.h"

#include <memory>

namespace tenfold::app {

void registerAccelerators(BackendRegistry& registry);
// A registry holding every backend of this build.
std::shared_ptr<BackendRegistry> makeBackendRegistry();

} // namespace tenfold::app
