// The pages of the desktop app, in sidebar order. A new area is one more entry here.
#include "cache/cache_page.h"
#include "chat/chat_page.h"
#include "cost/cost_page.h"
#include "core/page.h"
#include "models/models_page.h"
#include "optimize/optimize_page.h"
#include "promptlab/prompt_lab_page.h"
#include "profiler/profiler_page.h"
#include "server/server_page.h"
#include "settings/settings_page.h"

namespace tenfold::ui {

PageRegistry PageRegistry::standard()
{
    PageRegistry r;
    r.add({QStringLiteral("chat"), [](AppContext& c, QWidget* p) -> Page* { return new ChatPage(c, p); }});
    r.add({QStringLiteral("models"), [](AppContext& c, QWidget* p) -> Page* { return new ModelsPage(c, p); }});
    r.add({QStringLiteral("optimize"), [](AppContext& c, QWidget* p) -> Page* { return new OptimizePage(c, p); }});
    r.add({QStringLiteral("promptlab"), [](AppContext& c, QWidget* p) -> Page* { return new PromptLabPage(c, p); }});
    r.add({QStringLiteral("server"), [](AppContext& c, QWidget* p) -> Page* { return new ServerPage(c, p); }});
    r.add({QStringLiteral("cache"), [](AppContext& c, QWidget* p) -> Page* { return new CachePage(c, p); }});
    r.add({QStringLiteral("profiler"), [](AppContext& c, QWidget* p) -> Page* { return new ProfilerPage(c, p); }});
    r.add({QStringLiteral("costs"), [](AppContext& c, QWidget* p) -> Page* { return new CostPage(c, p); }});
    r.add({QStringLiteral("settings"), [](AppContext& c, QWidget* p) -> Page* { return new SettingsPage(c, p); }});
    return r;
}

} // namespace tenfold::ui
