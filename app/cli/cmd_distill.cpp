// distill TEACHER OUT (--layers N | --layer-list L | --config FILE) -f TEXT: a smaller student
// trained to match the teacher (engine/train/trainer.h), or with --no-teacher the same student
// trained on cross-entropy alone (the baseline a distillation is compared with).
#include "cli_common.h"
#include "cli_training.h"
#include "commands.h"

#include "core/error.h"
#include "model/model.h"

#include <fstream>
#include <map>
#include <sstream>

namespace tenfold::cli {

CommandSpec distillSpec()
{
    CommandSpec spec{
        "distill",
        "TEACHER OUT (--layers N | --layer-list L | --config FILE) -f TEXT [--alpha A] "
        "[--temperature T] [--no-teacher] [options]",
        "Trains a student to imitate TEACHER and writes it as GGUF (TEACHER's tokenizer and\n"
        "metadata, the student's shape). The student is N of the teacher's layers spread evenly\n"
        "(--layers N: layers i*L/N, so 4 of 8 are 0, 2, 4, 6), the layers listed (--layer-list\n"
        "0,2,5,7), both with the teacher's weights as the start; or a fresh model of the shape\n"
        "in --config FILE (lines key = value: dim, layers, heads, kv_heads, ffn, head_dim),\n"
        "initialised from --seed. Loss: alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha)\n"
        "* cross-entropy, with the teacher's logits computed on the fly. --no-teacher trains\n"
        "the same student from the same start on cross-entropy only. The rest is as `train`.",
        {"TEACHER", "OUT"},
        {},
        trainingOptions()};
    spec.options.push_back({"--layers", "", "N", "student = N of the teacher's layers, evenly spaced"});
    spec.options.push_back({"--layer-list", "", "L", "student = these teacher layers (0,2,5,7)"});
    spec.options.push_back({"--config", "", "FILE", "student = a fresh model of this shape"});
    spec.options.push_back({"--alpha", "", "A", "weight of the KL term in [0, 1] (default 0.5)"});
    spec.options.push_back({"--temperature", "", "T", "distillation temperature (default 2)"});
    spec.options.push_back({"--no-teacher", "", "", "cross-entropy only (the baseline)"});
    return spec;
}

namespace {

train::TrainConfig configFromFile(const std::string& path, const train::TrainConfig& teacher)
{
    std::ifstream in(path);
    if (!in)
        throw IoError("cannot read the student configuration " + path);
    std::map<std::string, int> values;
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (const auto hash = line.find('#'); hash != std::string::npos)
            line.erase(hash);
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        const auto eq = line.find('=');
        std::string key = line.substr(0, eq), value = eq == std::string::npos ? "" : line.substr(eq + 1);
        auto trim = [](std::string& s) {
            s.erase(0, s.find_first_not_of(" \t\r"));
            s.erase(s.find_last_not_of(" \t\r") + 1);
        };
        trim(key);
        trim(value);
        static const char* kKeys[] = {"dim", "layers", "heads", "kv_heads", "ffn", "head_dim"};
        bool known = false;
        for (const char* k : kKeys)
            known = known || key == k;
        int v = 0;
        size_t used = 0;
        try {
            v = std::stoi(value, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (!known || eq == std::string::npos || used == 0 || used != value.size() || v < 1)
            throw InvalidArgument(path + ":" + std::to_string(lineNo) +
                                  ": expected 'key = positive integer' with key one of dim, "
                                  "layers, heads, kv_heads, ffn, head_dim");
        values[key] = v;
    }
    train::TrainConfig c = teacher;
    for (const char* k : {"dim", "layers", "heads", "ffn"})
        if (!values.count(k))
            throw InvalidArgument(path + ": missing '" + k + "'");
    c.dim = values["dim"];
    c.nLayers = values["layers"];
    c.nHead = values["heads"];
    c.nHeadKv = values.count("kv_heads") ? values["kv_heads"] : c.nHead;
    c.ffnDim = values["ffn"];
    c.headDim = values.count("head_dim") ? values["head_dim"] : 0;
    c.ropeDim = 0;
    try {
        train::ParamLayout check(c);
    } catch (const InvalidArgument&) {
        throw InvalidArgument(path + ": inconsistent shape (heads must divide dim unless head_dim "
                              "is given, kv_heads must divide heads, head_dim must be even)");
    }
    return c;
}

} // namespace

int runDistill(const ParsedArgs& args)
{
    const int ways = int(args.has("--layers")) + int(args.has("--layer-list")) + int(args.has("--config"));
    if (ways != 1)
        throw UsageError("give exactly one of --layers N, --layer-list L, --config FILE");
    std::shared_ptr<Model> model = loadModel(args.positional(0));
    train::TrainableModel teacher = train::loadTrainable(model);
    const int L = teacher.config.nLayers;
    train::TrainableModel student;
    if (const auto cfgPath = args.get("--config")) {
        student.config = configFromFile(*cfgPath, teacher.config);
        student.source = model;
        const size_t nStudent = train::ParamLayout(student.config).count();
        if (nStudent > teacher.params.size())
            throw InvalidArgument("the student of " + *cfgPath + " has " + withThousands(nStudent) +
                                  " parameters, more than the teacher's " +
                                  withThousands(teacher.params.size()) +
                                  ": a distilled student must be smaller");
        student.params.assign(nStudent, 0.0f);
        train::initParams(train::ParamLayout(student.config), student.params.data(),
                          uint64_t(args.getInt("--seed", 1, 0, (1ll << 62))) ^ 0x5eedull);
    } else {
        std::vector<int> layers;
        if (const auto n = args.get("--layers")) {
            const int count = int(args.getInt("--layers", 0, 1, 1 << 20));
            if (count > L)
                throw InvalidArgument("a student of " + std::to_string(count) +
                                      " layers would be larger than the teacher (" +
                                      std::to_string(L) + " layers)");
            layers = train::spacedLayers(L, count);
        } else {
            layers = train::parseLayerList(*args.get("--layer-list"), L);
        }
        student = train::loadTrainable(model, layers);
        std::string list;
        for (int l : layers) {
            if (!list.empty())
                list += ',';
            list += std::to_string(l);
        }
        std::fprintf(stderr, "student: teacher layers %s\n", list.c_str());
    }
    const bool noTeacher = args.has("--no-teacher");
    return runTrainingCommand(args, std::move(student), noTeacher ? nullptr : &teacher, {},
                              args.positional(1));
}

} // namespace tenfold::cli
