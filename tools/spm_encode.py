#!/usr/bin/python3
"""Encode texts with Google's SentencePiece library: the independent oracle for Tenfold's
SentencePiece tokenizer tests (tests/engine/tokenizer/tst_tokenizer.cpp).

Usage: spm_encode.py MODEL.model INPUT.json
INPUT.json is a JSON list of strings; the output (stdout) is a JSON list with one list of token
ids per string, encoded without BOS/EOS, exactly as SentencePiece's encode() returns them.
Needs Debian's python3-sentencepiece (scripts/install-deps.sh installs it).
"""
import json
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import sentencepiece
    except ImportError:
        print("spm_encode.py: the sentencepiece module is missing (apt install python3-sentencepiece)",
              file=sys.stderr)
        return 3
    processor = sentencepiece.SentencePieceProcessor(model_file=sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as f:
        texts = json.load(f)
    json.dump([processor.encode(t) for t in texts], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
