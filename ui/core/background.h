#pragma once
// Runs a short job (scanning a folder, parsing GGUF headers) off the GUI thread and delivers the
// result back on the GUI thread. If the receiver is gone by then, the result is dropped.
#include <QCoreApplication>
#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QThread>

#include <functional>
#include <memory>

namespace tenfold::ui {

template <typename Result>
void runInBackground(QObject* receiver, std::function<Result()> work, std::function<void(Result)> done)
{
    QPointer<QObject> guard(receiver);
    QThread* thread = QThread::create([guard, work = std::move(work), done = std::move(done)]() mutable {
        auto result = std::make_shared<Result>(work());
        // A QPointer may only be read on the thread that deletes its object (the GUI thread), so
        // the result is posted to the application object and the guard is tested there.
        QMetaObject::invokeMethod(QCoreApplication::instance(), [guard, result, done] {
            if (guard)
                done(std::move(*result));
        }, Qt::QueuedConnection);
    });
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

} // namespace tenfold::ui
