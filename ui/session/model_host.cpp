#include "session/model_host.h"

#include "session/engine_session.h"

namespace tenfold::ui {

ModelHost::ModelHost(QObject* parent) : QObject(parent)
{
    qRegisterMetaType<LoadRequest>();
    qRegisterMetaType<LoadedModel>();
    qRegisterMetaType<ChatRequest>();
    qRegisterMetaType<GenerationResult>();

    thread_.setObjectName(QStringLiteral("tenfold-engine"));
    session_ = new EngineSession(loadCancel_, generateCancel_);
    session_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, session_, &QObject::deleteLater);

    connect(session_, &EngineSession::loadProgress, this, &ModelHost::loadProgress);
    connect(session_, &EngineSession::loaded, this, [this](const LoadedModel& m) {
        loaded_ = m;
        loadingPath_.clear();
        setState(State::Ready);
        emit loaded(m);
    });
    connect(session_, &EngineSession::loadFailed, this, [this](const QString& path, const QString& msg) {
        loaded_.reset();
        loadingPath_.clear();
        setState(State::Empty);
        emit loadFailed(path, msg);
    });
    connect(session_, &EngineSession::loadCancelled, this, [this](const QString& path) {
        loaded_.reset();
        loadingPath_.clear();
        setState(State::Empty);
        emit loadCancelled(path);
    });
    connect(session_, &EngineSession::unloaded, this, [this] {
        if (state_ == State::Loading)
            return; // a load queued after the unload owns the state now
        loaded_.reset();
        setState(State::Empty);
        emit unloaded();
    });
    connect(session_, &EngineSession::generationStarted, this, &ModelHost::generationStarted);
    connect(session_, &EngineSession::textStreamed, this, &ModelHost::textStreamed);
    connect(session_, &EngineSession::generationFinished, this, [this](const GenerationResult& r) {
        if (r.id == activeRequest_) {
            activeRequest_ = 0;
            setState(loaded_ ? State::Ready : State::Empty);
        }
        emit generationFinished(r);
    });
    connect(session_, &EngineSession::generationFailed, this, [this](quint64 id, const QString& msg) {
        if (id == activeRequest_) {
            activeRequest_ = 0;
            setState(loaded_ ? State::Ready : State::Empty);
        }
        emit generationFailed(id, msg);
    });
    thread_.start();
}

ModelHost::~ModelHost()
{
    // Shutting down is the one time the GUI waits for the engine; the flags make it quick.
    loadCancel_->store(true);
    generateCancel_->store(true);
    thread_.quit();
    thread_.wait();
}

void ModelHost::setState(State s)
{
    if (s == state_)
        return;
    state_ = s;
    emit stateChanged(s);
}

void ModelHost::load(const LoadRequest& request)
{
    generateCancel_->store(true);
    loadCancel_->store(false);
    loaded_.reset();
    loadingPath_ = request.path;
    activeRequest_ = 0;
    setState(State::Loading);
    QMetaObject::invokeMethod(session_, [s = session_, request] { s->load(request); }, Qt::QueuedConnection);
}

void ModelHost::cancelLoad()
{
    if (state_ == State::Loading)
        loadCancel_->store(true);
}

void ModelHost::unload()
{
    generateCancel_->store(true);
    loadCancel_->store(true);
    activeRequest_ = 0;
    QMetaObject::invokeMethod(session_, [s = session_] { s->unload(); }, Qt::QueuedConnection);
}

quint64 ModelHost::generate(ChatRequest request)
{
    if (state_ != State::Ready)
        return 0;
    request.id = nextRequest_++;
    activeRequest_ = request.id;
    generateCancel_->store(false);
    setState(State::Generating);
    QMetaObject::invokeMethod(session_, [s = session_, request] { s->generate(request); }, Qt::QueuedConnection);
    return request.id;
}

void ModelHost::stop()
{
    if (state_ == State::Generating)
        generateCancel_->store(true);
}

} // namespace tenfold::ui
