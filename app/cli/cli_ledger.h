#pragma once
// Usage-ledger rows from the command line: `generate` writes one row per run (source "cli"),
// `bench` one per test (source "benchmark"), into the same tenfold.db the desktop app and
// tenfold-server use, so the Cost history page shows them next to chat and server rows.
// --data-dir DIR picks another folder, --no-ledger records nothing.
#include "cli_args.h"
#include "cost/energy_meter.h"
#include "store/store.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace tenfold {
class InferenceContext;
class Model;
}

namespace tenfold::cli {

// $XDG_DATA_HOME/tenfold/tenfold, else ~/.local/share/tenfold/tenfold: where the desktop app
// (QStandardPaths::AppDataLocation) keeps its database, so its usage view sees these rows.
std::filesystem::path defaultDataDir();

// The ledger's device, as the desktop app writes it: "cpu" or "vulkan:DEVICE NAME" (the Vulkan
// backend names itself "Vulkan: NAME (TYPE)").
std::string ledgerDeviceTag(const std::string& device, const std::string& backendName);

// --data-dir DIR and --no-ledger, for the commands that record.
std::vector<OptionSpec> ledgerOptions();

class CliLedger {
public:
    // nullptr with --no-ledger, and in a build without SQLite (TENFOLD_WITH_STORE=OFF: the Windows
    // cross build; --data-dir is refused there). Otherwise opens (creating) DIR/tenfold.db before any work is
    // done, so a database that cannot be used fails the command at once: throws IoError naming
    // the path, SQLite's complaint and the way out (--no-ledger, --data-dir).
    static std::unique_ptr<CliLedger> open(const ParsedArgs& args, const std::string& source);

    // What every row of this run shares: the model (file stem, fingerprint, main weight type),
    // the device and kernel level, the threads that really ran and the context size.
    void describe(const Model& model, const std::string& modelPath, const ParsedArgs& args,
                  const std::string& backendName, const InferenceContext& ctx);
    // A row with the shared facts filled in; the caller adds tokens, times and energy.
    LedgerEntry entry() const { return base_; }
    bool onGpu() const { return base_.device != "cpu"; }
    const cost::EnergyMeter& meter() const { return meter_; }
    // Appends the row. A failed write (disk full, database locked) is reported on stderr and
    // returns false; the command's own output is already out, so it does not fail the run.
    bool record(const LedgerEntry& entry);
    ~CliLedger();

private:
    struct Sink; // the open database (store/store.h's Store), absent in a build without SQLite
    CliLedger(std::unique_ptr<Sink> sink, std::string source);
    std::unique_ptr<Sink> sink_;
    std::string source_;
    LedgerEntry base_;
    cost::EnergyMeter meter_;
};

} // namespace tenfold::cli
