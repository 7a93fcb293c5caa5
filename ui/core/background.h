#pragma once
// Runs a short job (scanning a folder, parsing GGUF headers) off the GUI thread and delivers the
// result back on the receiver's thread. If the receiver is gone by then, the result is dropped.
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
        if (guard)
            QMetaObject::invokeMethod(guard.data(), [guard, result, done] {
                if (guard)
                    done(std::move(*result));
            }, Qt::QueuedConnection);
    });
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

} // namespace tenfold::ui
