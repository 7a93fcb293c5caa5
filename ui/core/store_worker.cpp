#include "core/store_worker.h"

#include <QMetaObject>

#include <exception>

namespace tenfold::ui {

StoreWorker::StoreWorker(const std::function<std::unique_ptr<Store>()>& open, QObject* parent) : QObject(parent)
{
    thread_.setObjectName(QStringLiteral("tenfold-store"));
    runner_ = new QObject;
    runner_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, runner_, &QObject::deleteLater);
    thread_.start();
    std::exception_ptr failure;
    QMetaObject::invokeMethod(runner_, [&] {
        try {
            store_ = open();
        } catch (...) {
            failure = std::current_exception();
        }
    }, Qt::BlockingQueuedConnection);
    if (failure) {
        thread_.quit();
        thread_.wait();
        std::rethrow_exception(failure);
    }
}

StoreWorker::~StoreWorker()
{
    if (!store_)
        return; // never opened (the constructor threw): the thread is already gone
    drain();
    QMetaObject::invokeMethod(runner_, [this] {
        try {
            store_->flush();
        } catch (const std::exception&) {
            // Nothing can report it any more; the text lost is the last fraction of a second.
        }
        store_.reset(); // closes the database on the thread that used it
    }, Qt::BlockingQueuedConnection);
    thread_.quit();
    thread_.wait();
}

void StoreWorker::drain()
{
    if (QThread::currentThread() == &thread_)
        return;
    QMetaObject::invokeMethod(runner_, [] {}, Qt::BlockingQueuedConnection);
}

void StoreWorker::submit(QObject* receiver, std::function<void(Store&)> work, std::function<void()> done,
                         const QString& what, std::function<void()> failed)
{
    // The guard is made and read only on the GUI thread: results are posted to this object (which
    // outlives the store thread) and the receiver is checked there.
    QPointer<QObject> guard(receiver);
    const bool wantsReceiver = receiver != nullptr;
    QMetaObject::invokeMethod(runner_, [this, guard, wantsReceiver, work = std::move(work), done = std::move(done),
                                        what, failed = std::move(failed)]() mutable {
        QString error;
        try {
            work(*store_);
        } catch (const std::exception& e) {
            error = QString::fromStdString(e.what());
            if (error.isEmpty())
                error = QStringLiteral("unknown error");
        }
        ++jobsRun_;
        const bool ok = error.isEmpty();
        const bool recovered = ok && failing_.exchange(false);
        if (!ok)
            failing_ = true;
        if (ok && !done && !recovered)
            return; // nothing to tell the GUI thread
        QMetaObject::invokeMethod(this, [this, guard, wantsReceiver, ok, recovered, error, what,
                                         done = std::move(done), failed = std::move(failed)] {
            if (recovered)
                emit storageRecovered();
            if (!ok)
                emit storageFailed(what, error);
            if (wantsReceiver && !guard)
                return;
            if (ok && done)
                done();
            else if (!ok && failed)
                failed();
        }, Qt::QueuedConnection);
    }, Qt::QueuedConnection);
}

} // namespace tenfold::ui
