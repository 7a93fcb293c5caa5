// GGUFFile: opening (memory-mapped or from bytes) and look-ups. Parsing is in gguf_reader.cpp.
#include "gguf/gguf_file.h"

#include "core/error.h"


namespace tenfold {

int64_t GGUFTensorInfo::elementCount() const
{
    int64_t n = 1;
    for (int64_t d : ne)
        n *= d; // the reader has checked that the product fits
    return n;
}

int64_t GGUFTensorInfo::rows() const
{
    int64_t n = 1;
    for (size_t i = 1; i < ne.size(); ++i)
        n *= ne[i];
    return n;
}

std::shared_ptr<GGUFFile> GGUFFile::open(const std::filesystem::path& path)
{
    std::shared_ptr<GGUFFile> f(new GGUFFile());
    f->label_ = platform::pathToUtf8(path);

    // Pages come from the page cache on demand, so opening a large model costs only the header
    // walk, and tensor views are the file's own pages.
    f->mapping_ = platform::MappedFile::open(path);
    f->size_ = f->mapping_.size();
    if (f->size_ == 0)
        throw FormatError(f->label_, 0, "the file is empty, not a GGUF file");
    f->base_ = f->mapping_.data();
    f->parse(); // on a throw, ~GGUFFile unmaps
    return f;
}

std::shared_ptr<GGUFFile> GGUFFile::fromBytes(std::vector<uint8_t> bytes, std::string label)
{
    std::shared_ptr<GGUFFile> f(new GGUFFile());
    f->label_ = std::move(label);
    f->owned_ = std::move(bytes);
    f->base_ = f->owned_.data();
    f->size_ = f->owned_.size();
    f->parse();
    return f;
}

GGUFFile::~GGUFFile() = default;

const GGUFValue* GGUFFile::find(std::string_view key) const
{
    auto it = metadataIndex_.find(key);
    return it == metadataIndex_.end() ? nullptr : &metadata_[it->second].second;
}

const GGUFTensorInfo* GGUFFile::findTensor(std::string_view name) const
{
    auto it = tensorIndex_.find(name);
    return it == tensorIndex_.end() ? nullptr : &tensors_[it->second];
}

uint64_t GGUFFile::metadataOffset(std::string_view key) const
{
    auto it = metadataIndex_.find(key);
    return it == metadataIndex_.end() ? 0 : metadataOffsets_[it->second];
}

namespace {

[[noreturn]] void wrongType(const std::string& file, uint64_t at, std::string_view key,
                            const GGUFValue& v, const char* wanted)
{
    throw FormatError(file, at, "metadata key '" + std::string(key) + "' holds a " +
                                    ggufValueTypeName(v.type()) + ", not " + wanted);
}

} // namespace

std::optional<std::string> GGUFFile::getString(std::string_view key) const
{
    const GGUFValue* v = find(key);
    if (!v)
        return std::nullopt;
    if (!v->isString())
        wrongType(label_, metadataOffset(key), key, *v, "a string");
    return v->toString();
}

std::optional<int64_t> GGUFFile::getInt(std::string_view key) const
{
    const GGUFValue* v = find(key);
    if (!v)
        return std::nullopt;
    if (!v->isInteger())
        wrongType(label_, metadataOffset(key), key, *v, "an integer");
    try {
        return v->toInt();
    } catch (const InvalidArgument& e) {
        throw FormatError(label_, metadataOffset(key),
                          "metadata key '" + std::string(key) + "': " + e.what());
    }
}

std::optional<double> GGUFFile::getFloat(std::string_view key) const
{
    const GGUFValue* v = find(key);
    if (!v)
        return std::nullopt;
    if (!v->isFloat() && !v->isInteger())
        wrongType(label_, metadataOffset(key), key, *v, "a number");
    return v->toDouble();
}

std::optional<bool> GGUFFile::getBool(std::string_view key) const
{
    const GGUFValue* v = find(key);
    if (!v)
        return std::nullopt;
    if (!v->isBool())
        wrongType(label_, metadataOffset(key), key, *v, "a bool");
    return v->toBool();
}

} // namespace tenfold
