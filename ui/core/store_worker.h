#pragma once
// The SQLite store on a thread of its own. Every store call the UI makes goes through here, so no
// SQLite statement (a WAL checkpoint, an FTS merge, a busy wait on another process) ever runs on
// the GUI thread. Jobs run one at a time in the order they were submitted, so a write submitted
// before a read is seen by that read. Results come back by queued call on the GUI thread, and
// only while the receiver that asked for them still exists.
#include "store/store.h"

#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <atomic>
#include <functional>
#include <memory>

namespace tenfold::ui {

class StoreWorker : public QObject {
    Q_OBJECT
public:
    // Opens the store on the worker's thread by calling `open` there (so even opening and
    // migrating the database happens off the GUI thread) and waits for it: a database that
    // cannot be opened throws here, from `open`'s exception, for the start-up error box.
    explicit StoreWorker(const std::function<std::unique_ptr<Store>()>& open, QObject* parent = nullptr);
    // Runs the jobs still queued, flushes streamed text and joins the thread.
    ~StoreWorker() override;

    // Runs work(store) on the store thread. On success done(result) runs on the GUI thread if
    // `receiver` still exists; on failure storageFailed(what, reason) is emitted and `failed`
    // (if given) runs instead. `what` names the data for the message ("the reply").
    template <typename Result>
    void call(QObject* receiver, std::function<Result(Store&)> work, std::function<void(Result)> done,
              const QString& what, std::function<void()> failed = {})
    {
        auto result = std::make_shared<Result>();
        submit(receiver, [work = std::move(work), result](Store& s) { *result = work(s); },
               [done = std::move(done), result] { if (done) done(std::move(*result)); }, what, std::move(failed));
    }
    // A job with nothing to hand back; `done` (optional) runs on the GUI thread after it succeeded.
    void post(std::function<void(Store&)> work, const QString& what, QObject* receiver = nullptr,
              std::function<void()> done = {}, std::function<void()> failed = {})
    {
        submit(receiver, std::move(work), std::move(done), what, std::move(failed));
    }

    // Blocks until every job submitted so far has run on the store thread (results may still be
    // on their way to the GUI thread). For tests and shutdown; the app itself never waits.
    void drain();
    // The store itself, for tests that inspect what was written (after drain()). Calls on it
    // block the calling thread; the app's own code never uses it.
    Store& storeForInspection() { return *store_; }
    // Jobs run so far, and the thread they run on (tests check no job ran on the GUI thread).
    quint64 jobsRun() const { return jobsRun_.load(); }
    QThread* thread() { return &thread_; }

signals:
    void storageFailed(const QString& what, const QString& reason);
    // A job succeeded after one had failed.
    void storageRecovered();

private:
    void submit(QObject* receiver, std::function<void(Store&)> work, std::function<void()> done,
                const QString& what, std::function<void()> failed);

    std::unique_ptr<Store> store_;
    QThread thread_;
    QObject* runner_ = nullptr; // lives on thread_; jobs are queued calls on it
    std::atomic<bool> failing_{false};
    std::atomic<quint64> jobsRun_{0};
};

} // namespace tenfold::ui
