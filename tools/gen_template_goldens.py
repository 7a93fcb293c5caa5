#!/usr/bin/python3
"""Golden renderings of every chat template in ../shared/templates, made by Python's jinja2.

The oracle for `tenfold-cli template` (tests/e2e/tst_cli_template.cpp) and the Prompt lab's
preview: Debian's python3-jinja2 renders each template the way model publishers' tooling does
(Hugging Face transformers' apply_chat_template): an ImmutableSandboxedEnvironment with
trim_blocks and lstrip_blocks and the loopcontrols extension, `raise_exception` raising an error
with the template's message, and `tojson` as json.dumps(ensure_ascii=False) instead of jinja2's
HTML-escaping, key-sorting built-in. The only variables are the ones the CLI passes: messages,
tools (when the messages file has them), add_generation_prompt, bos_token, eos_token.

Writes into tests/e2e/templates/:
  golden/<template>__<messages>__<gen|nogen>.txt   the exact rendered bytes, or
  golden/<template>__<messages>__<gen|nogen>.error the raise_exception message (no newline)
  cases.tsv  one line per case: template file (in ../shared/templates, or extra/NAME in
             tests/e2e/templates), messages file, add_generation_prompt (0/1),
             bos token, eos token, expected file (tab-separated; the test reads it)

Run again after adding a template or a message list, then review `git diff`:
  /usr/bin/python3 tools/gen_template_goldens.py [--templates ../shared/templates]
"""
import argparse
import json
import os
import sys
import tempfile

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "e2e", "templates")

# Each template's real BOS/EOS strings (from the model's tokenizer), so the renderings are the ones
# the model sees. Templates not listed get "<s>" and "</s>".
SPECIAL_TOKENS = {
    "Qwen-Qwen2.5-7B-Instruct.jinja": ("", "<|im_end|>"),
    "google-gemma-2-2b-it.jinja": ("<bos>", "<eos>"),
    "meta-llama-Llama-3.1-8B-Instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "microsoft-Phi-3.5-mini-instruct.jinja": ("<s>", "<|endoftext|>"),
    "mistralai-Mistral-Nemo-Instruct-2407.jinja": ("<s>", "</s>"),
}

# Message lists that carry tools are rendered only for templates that read `tools`
# ("tools where the template supports them").
TOOL_LISTS = {"tools.json", "tool_calls.json", "parallel_tool_calls.json"}


class RaisedByTemplate(Exception):
    pass


def raise_exception(message):
    raise RaisedByTemplate(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def load_messages(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, list):
        return data, None
    return data["messages"], data.get("tools")


def write_atomically(path, data):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", default=os.path.join(REPO, "..", "shared", "templates"))
    args = parser.parse_args()

    env = environment()
    golden_dir = os.path.join(OUT, "golden")
    os.makedirs(golden_dir, exist_ok=True)
    for old in os.listdir(golden_dir):
        os.remove(os.path.join(golden_dir, old))
    message_dir = os.path.join(OUT, "messages")
    message_files = sorted(f for f in os.listdir(message_dir) if f.endswith(".json"))
    rows = []
    # The shared templates, then tests/e2e/templates/extra (listed as "extra/NAME"): templates
    # written for the goldens whose text depends on trim_blocks and lstrip_blocks, which the
    # publishers' templates (all {%- ... -%}) happen not to exercise.
    templates = [(os.path.join(args.templates, t), t) for t in sorted(os.listdir(args.templates))]
    extra_dir = os.path.join(OUT, "extra")
    templates += [(os.path.join(extra_dir, t), "extra/" + t) for t in sorted(os.listdir(extra_dir))]
    for template_path, template_file in templates:
        if not template_file.endswith(".jinja"):
            continue
        with open(template_path, encoding="utf-8") as f:
            source = f.read()
        template = env.from_string(source)
        bos, eos = SPECIAL_TOKENS.get(template_file, ("<s>", "</s>"))
        for messages_file in message_files:
            if messages_file in TOOL_LISTS and "tools" not in source:
                continue
            messages, tools = load_messages(os.path.join(message_dir, messages_file))
            for gen in (True, False):
                variables = {"messages": messages, "add_generation_prompt": gen,
                             "bos_token": bos, "eos_token": eos}
                if tools is not None:
                    variables["tools"] = tools
                stem = "%s__%s__%s" % (os.path.basename(template_file)[:-len(".jinja")], messages_file[:-len(".json")],
                                       "gen" if gen else "nogen")
                try:
                    text = template.render(**variables)
                    name = stem + ".txt"
                    data = text.encode("utf-8")
                except RaisedByTemplate as e:
                    name = stem + ".error"
                    data = str(e).encode("utf-8")
                write_atomically(os.path.join(golden_dir, name), data)
                rows.append("\t".join([template_file, messages_file, "1" if gen else "0", bos, eos, name]))
    header = ("# template\tmessages\tadd_generation_prompt\tbos_token\teos_token\texpected\n"
              "# generated by tools/gen_template_goldens.py with jinja2 %s; do not edit\n" % jinja2.__version__)
    write_atomically(os.path.join(OUT, "cases.tsv"), (header + "\n".join(rows) + "\n").encode("utf-8"))
    print("%d cases written to %s" % (len(rows), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
