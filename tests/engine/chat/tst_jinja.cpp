// The Jinja-subset engine, construct by construct. Every expected string is what Python's Jinja2
// (with Hugging Face's trim_blocks/lstrip_blocks settings) prints for the same template, worked
// out by hand from the language rules.
#include "chat/chat_template.h"

#include <QDate>
#include <QtTest>

using namespace tenfold;

namespace {

std::string render(const std::string& source, const std::vector<ChatMessage>& messages = {})
{
    ChatRenderOptions options;
    options.bosToken = "<s>";
    options.eosToken = "</s>";
    options.dateString = "01 Jan 2025";
    return ChatTemplate(source).render(messages, options);
}

} // namespace

class TestJinja : public QObject {
    Q_OBJECT

private slots:
    void expressions_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("expected");
        auto row = [](const char* name, const char* source, const char* expected) {
            QTest::newRow(name) << QString::fromUtf8(source) << QString::fromUtf8(expected);
        };
        row("text only", "plain text", "plain text");
        row("output", "{{ 'a' }}{{ 1 }}{{ 2.5 }}", "a12.5");
        row("literals", "{{ True }} {{ false }} {{ None }} {{ none }} {{ {'a': 1, 'b': [true, none]} }}",
            "True False None None {'a': 1, 'b': [True, None]}");
        row("arithmetic", "{{ 7 // 2 }} {{ 7 / 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 1.5 + 1 }}",
            "3 3.5 -4 1 2 1024 7 9 2.5");
        row("concat", "{{ 'a' ~ 1 ~ none }}|{{ 'a' + 'b' }}|{{ 'ab' * 3 }}|{{ [1] + [2] }}", "a1None|ab|ababab|[1, 2]");
        row("compare", "{{ 1 < 2 and 'b' > 'a' }} {{ not 1 == 1 }} {{ 'x' in 'xyz' }} {{ 3 not in [1, 2] }} {{ 1 == 1.0 }} {{ 2 >= 3 }}",
            "True False True True True False");
        row("and/or values", "{{ 0 or 'fallback' }}|{{ 'a' and 'b' }}|{{ none or [] }}", "fallback|b|[]");
        row("tests", "{{ x is defined }} {{ x is undefined }} {{ none is none }} {{ 'a' is string }} {{ {} is mapping }} {{ 3 is number }} {{ 9 is divisibleby 3 }} {{ [1] is iterable }} {{ 3 is not odd }} {{ 1 is equalto 1 }}",
            "False True True True True True True True False True");
        row("slices", "{{ [1, 2, 3, 4][1:] }} {{ 'hello'[:-1] }} {{ 'hello'[::-1] }} {{ [1, 2, 3][-1] }} {{ [1, 2, 3, 4, 5][1:4:2] }} {{ 'héllo'[1:3] }}",
            "[2, 3, 4] hell olleh 3 [2, 4] él");
        row("subscript and attribute", "{% set d = {'k': {'n': [10, 20]}} %}{{ d['k']['n'][1] }} {{ d.k.n[0] }} {{ d.missing }}|",
            "20 10 |");
        row("conditional expression", "{{ 'y' if 1 else 'n' }}{{ 'y' if 0 else 'n' }}{{ 'y' if 0 }}", "yn");
        row("string escapes", "{{ 'a\\nb\\t\\'c\\'' }}{{ \"d\\\"e\" }}", "a\nb\t'c'd\"e");
        row("adjacent strings", "{{ 'a' \"b\" }}", "ab");
        row("comment", "a{# a comment #}b{#- trimmed -#} c", "abc");
    }

    void expressions()
    {
        QFETCH(QString, source);
        QFETCH(QString, expected);
        QCOMPARE(QString::fromStdString(render(source.toStdString())), expected);
    }

    void filters_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("expected");
        auto row = [](const char* name, const char* source, const char* expected) {
            QTest::newRow(name) << QString::fromUtf8(source) << QString::fromUtf8(expected);
        };
        row("trim", "[{{ '  x y \n' | trim }}]", "[x y]");
        row("length", "{{ [1, 2, 3] | length }} {{ 'héllo' | length }} {{ {'a': 1} | count }}", "3 5 1");
        row("case", "{{ 'ab' | upper }} {{ 'AB' | lower }} {{ 'hello World' | capitalize }} {{ 'hello world' | title }}",
            "AB ab Hello world Hello World");
        row("tojson", "{{ {'a': 'é\"\n', 'b': [1, 2.5, none, true], 'c': {}} | tojson }}",
            "{\"a\": \"é\\\"\\n\", \"b\": [1, 2.5, null, true], \"c\": {}}");
        row("tojson indent", "{{ {'a': [1, {'b': 2}], 'c': []} | tojson(indent=2) }}",
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": 2\n    }\n  ],\n  \"c\": []\n}");
        row("default", "{{ nothing | default('d') }} {{ '' | default('e') }} {{ '' | default('f', true) }} {{ 0 | d(5) }}", "d  f 0");
        row("join", "{{ ['a', 'b'] | join(', ') }} {{ [1, 2] | join }}", "a, b 12");
        row("first last", "{{ [3, 4] | first }} {{ [3, 4] | last }} {{ 'xyz' | first }}", "3 4 x");
        row("replace", "{{ 'aXbX' | replace('X', '-') }} {{ 'aaa' | replace('a', 'b', 2) }}", "a-b- bba");
        row("string", "{{ (5 | string) + '!' }} {{ [1, 'a'] | string }}", "5! [1, 'a']");
        row("items", "{% for k, v in {'x': 1, 'y': 2} | items %}{{ k }}={{ v }};{% endfor %}", "x=1;y=2;");
        row("reject select", "{{ ['a', 'code', 'b'] | reject('equalto', 'code') | join }} {{ [1, 2, 3, 4] | select('even') | list }}",
            "ab [2, 4]");
        row("map sort unique", "{{ ['b', 'a', 'b'] | unique | sort | join }} {{ [1, 2] | map('string') | join('-') }}", "ab 1-2");
        row("numbers", "{{ '42' | int + 1 }} {{ -3 | abs }} {{ 2.567 | round(2) }} {{ '1.5' | float }}", "43 3 2.57 1.5");
        row("indent", "{{ 'a\nb' | indent(2) }}", "a\n  b");
        row("filter binds tighter than +", "{{ 'x' + '  y  ' | trim + 'z' }}", "xyz");
    }

    void filters()
    {
        QFETCH(QString, source);
        QFETCH(QString, expected);
        QCOMPARE(QString::fromStdString(render(source.toStdString())), expected);
    }

    void methods()
    {
        QCOMPARE(render("{{ '  a b  '.strip() }}|{{ 'abc'.startswith('ab') }}|{{ 'a,b,c'.split(',') }}|{{ 'x  y'.split() | length }}|"
                        "{{ 'Abc'.endswith('c') }}|{{ 'abc'.upper() }}|{{ 'xxa'.lstrip('x') }}|{{ 'a-b'.replace('-', '+') }}"),
                 std::string("a b|True|['a', 'b', 'c']|2|True|ABC|a|a+b"));
        QCOMPARE(render("{% for k, v in {'x': 1}.items() %}{{ k }}{{ v }}{% endfor %}{{ {'a': 1}.get('b', 'none') }}{{ {'a': 1}.keys() | list }}"),
                 std::string("x1none['a']"));
        QCOMPARE(render("{% set l = [] %}{% set _ = l.append(1) %}{% set _ = l.append('x') %}{{ l }}"), std::string("[1, 'x']"));
    }

    void loops()
    {
        QCOMPARE(render("{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ x }}{% if loop.first %}F{% endif %}"
                        "{% if loop.last %}L{% endif %}{{ loop.length }}|{% endfor %}"),
                 std::string("10aF3|21b3|32cL3|"));
        QCOMPARE(render("{% for x in [] %}x{% else %}empty{% endfor %}"), std::string("empty"));
        QCOMPARE(render("{% for x in range(6) if x is odd %}{{ x }}{{ ',' if not loop.last }}{% endfor %}"), std::string("1,3,5"));
        QCOMPARE(render("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}"),
                 std::string("013"));
        QCOMPARE(render("{% for c in 'hé' %}[{{ c }}]{% endfor %}"), std::string("[h][é]"));
        QCOMPARE(render("{% for a in [1, 2] %}{% for b in [3, 4] %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }};{% endfor %}"),
                 std::string("131 142 1;231 242 2;"));
    }

    void setAndScoping()
    {
        // A loop body is its own scope: the outer x survives; namespace() carries values out.
        QCOMPARE(render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}"), std::string("1"));
        QCOMPARE(render("{% set ns = namespace(n=0, seen=false) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }} {{ ns.seen }}"),
                 std::string("6 False"));
        QCOMPARE(render("{% if true %}{% set y = 'in if' %}{% endif %}{{ y }}"), std::string("in if"));
        QCOMPARE(render("{% set x %}a{{ 1 }}{% endset %}{{ x }}"), std::string("a1"));
        QCOMPARE(render("{% if 0 %}a{% elif 1 %}b{% else %}c{% endif %}{% if none %}d{% else %}e{% endif %}"), std::string("be"));
    }

    void macros()
    {
        QCOMPARE(render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bo') }} {{ greet('Al', punct='?') }}"),
                 std::string("Hi Bo! Hi Al?"));
        // Recursion (gpt-oss renders nested JSON schemas this way) and reading top-level variables.
        QCOMPARE(render("{% set sep = '.' %}{% macro down(n) %}{% if n > 0 %}{{ n }}{{ sep }}{{ down(n - 1) }}{% endif %}{% endmacro %}{{ down(3) }}"),
                 std::string("3.2.1."));
        // A macro's own `set` stays inside it.
        QCOMPARE(render("{% set x = 'outer' %}{% macro m() %}{% set x = 'inner' %}{{ x }}{% endmacro %}{{ m() }} {{ x }}"),
                 std::string("inner outer"));
    }

    void whitespaceControl()
    {
        QCOMPARE(render("a  {%- if true -%}  b  {%- endif -%}  c"), std::string("abc"));
        QCOMPARE(render("a  {{- 'b' -}}  c"), std::string("abc"));
        // trim_blocks: the newline after a block tag goes; lstrip_blocks: indentation before it.
        QCOMPARE(render("{% if true %}\n    x\n    {% endif %}\ny"), std::string("    x\ny"));
        QCOMPARE(render("  {% if true %}x{% endif %}"), std::string("x"));
        // Not at a line start: spaces before the tag stay.
        QCOMPARE(render("a  {% if true %}x{% endif %}"), std::string("a  x"));
        // Variable tags are not blocks: their newline stays.
        QCOMPARE(render("{{ 'a' }}\nb"), std::string("a\nb"));
        // One trailing newline of the template is dropped, as Jinja2 does by default.
        QCOMPARE(render("x\n"), std::string("x"));
        QCOMPARE(render("x\n\n"), std::string("x\n"));
    }

    void messagesVariables()
    {
        std::vector<ChatMessage> msgs = {{"user", "a"}, {"assistant", "b"}, {"user", "c"}};
        QCOMPARE(render("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | join('+') }}", msgs),
                 std::string("a+c"));
        QCOMPARE(render("{{ messages[1:] | length }}{{ messages[0].role }}{{ messages[-1]['content'] }}{{ bos_token }}{{ eos_token }}{{ add_generation_prompt }}{{ date_string }}", msgs),
                 std::string("2userc<s></s>True01 Jan 2025"));
        QCOMPARE(render("{{ messages[0] == messages[0] }}{{ messages[0] == messages[1] }}{{ tools is defined }}", msgs),
                 std::string("TrueFalseFalse"));
    }

    void realWorldConstructs()
    {
        // Idioms from other published templates (Qwen3, DeepSeek-R1, Mistral v0.3): reverse
        // iteration with computed indexes, chained string methods, not(...), selectattr tests.
        std::vector<ChatMessage> msgs = {{"user", "q1"}, {"assistant", "<think>\nhmm\n</think>\n\nA1"}, {"user", "q2"}};
        const char* src =
            "{%- set ns = namespace(last_user=-1) -%}"
            "{%- for message in messages[::-1] -%}"
            "{%- set index = (messages|length - 1) - loop.index0 -%}"
            "{%- if ns.last_user == -1 and message.role == 'user' and not(message.content.startswith('<tool')) -%}"
            "{%- set ns.last_user = index -%}"
            "{%- endif -%}"
            "{%- endfor -%}"
            "{{ ns.last_user }}|"
            "{%- for m in messages | selectattr('tool_calls', 'undefined') | rejectattr('role', 'equalto', 'user') -%}"
            "{%- if '</think>' in m.content -%}"
            "{{ m.content.split('</think>')[-1].lstrip('\n') }}|{{ m.content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') }}"
            "{%- endif -%}"
            "{%- endfor -%}";
        QCOMPARE(render(src, msgs), std::string("2|A1|hmm"));
    }

    void strftimeNow()
    {
        QCOMPARE(QString::fromStdString(render("{{ strftime_now('%Y') }}")), QString::number(QDate::currentDate().year()));
    }

    void raiseException()
    {
        try {
            render("ok\n  {{ raise_exception('boom: ' ~ 42) }}");
            QFAIL("raise_exception did not throw");
        } catch (const TemplateRaisedError& e) {
            QCOMPARE(std::string(e.what()), std::string("boom: 42"));
            QCOMPARE(e.line(), 2);
        }
    }

    void syntaxErrors_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<int>("line");
        QTest::addColumn<int>("column");
        QTest::addColumn<QString>("problem");
        QTest::newRow("unknown filter") << "{{ x | frobnicate }}" << 1 << 8 << "unknown filter 'frobnicate'";
        QTest::newRow("unknown test") << "{{ x is frob }}" << 1 << 9 << "unknown test 'frob'";
        QTest::newRow("missing endif") << "{% if x %}\nabc" << 2 << 4 << "expected 'elif' or 'else' or 'endif', found end of template";
        QTest::newRow("missing operand") << "{{ 1 + }}" << 1 << 8 << "expected an expression, found '}}'";
        QTest::newRow("for without in") << "{% for x y %}{% endfor %}" << 1 << 10 << "expected 'in', found 'y'";
        QTest::newRow("unclosed tag") << "a\n {{ x " << 2 << 2 << "tag is never closed: expected '}}'";
        QTest::newRow("unclosed string") << "{{ 'abc }}" << 1 << 4 << "string literal is never closed";
        QTest::newRow("unknown statement") << "{% frob %}" << 1 << 4 << "unknown or misplaced statement 'frob' (expected if, for, set, macro, break or continue)";
        QTest::newRow("stray endfor") << "{% endfor %}" << 1 << 4 << "unknown or misplaced statement 'endfor' (expected if, for, set, macro, break or continue)";
        QTest::newRow("unclosed paren") << "{{ (1 + 2 }}" << 1 << 11 << "expected ')', found '}}'";
    }

    void syntaxErrors()
    {
        QFETCH(QString, source);
        QFETCH(int, line);
        QFETCH(int, column);
        QFETCH(QString, problem);
        try {
            ChatTemplate t(source.toStdString());
            QFAIL("template parsed although it is invalid");
        } catch (const TemplateSyntaxError& e) {
            QCOMPARE(QString::fromStdString(e.problem()), problem);
            QCOMPARE(e.line(), line);
            QCOMPARE(e.column(), column);
            QVERIFY(QString::fromUtf8(e.what()).startsWith(QStringLiteral("chat template line %1, column %2: ").arg(line).arg(column)));
        }
    }

    void hostileInput()
    {
        // Templates come from model files: deep nesting and truncation must give errors, not crashes.
        QVERIFY_THROWS_EXCEPTION(TemplateSyntaxError, ChatTemplate("{{ " + std::string(100000, '(') + "1 }}"));
        QVERIFY_THROWS_EXCEPTION(TemplateSyntaxError, ChatTemplate("{{ " + std::string(100000, '[') + " }}"));
        std::string nots;
        for (int i = 0; i < 50000; ++i)
            nots += "not ";
        QVERIFY_THROWS_EXCEPTION(TemplateSyntaxError, ChatTemplate("{{ " + nots + "x }}"));
        std::string ifs;
        for (int i = 0; i < 50000; ++i)
            ifs += "{% if x %}";
        QVERIFY_THROWS_EXCEPTION(TemplateSyntaxError, ChatTemplate{ifs});
        QVERIFY_THROWS_EXCEPTION(TemplateRenderError, render("{{ 'x' * 1000000000 }}"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                 ChatTemplate::builtin(BuiltinTemplate::ChatML)
                                     .render({{"user", "x"}}, ChatRenderOptions{true, "", "", std::string(100000, '['), ""}));

        // Every prefix of a real template either parses or fails with a positioned syntax error.
        const std::string source =
            "{%- if messages[0]['role'] == 'system' %}{%- set sys = messages[0]['content']|trim %}{%- set messages = messages[1:] %}"
            "{%- else %}{%- set sys = \"\" %}{%- endif %}{{- bos_token + sys }}{%- for m in messages %}"
            "{{- '<|' + m.role + '|>\\n' + m['content'] | trim + (eos_token if loop.last else '') }}{#- c #}{%- endfor %}";
        int parsed = 0;
        for (size_t n = 0; n <= source.size(); ++n) {
            try {
                ChatTemplate t(source.substr(0, n));
                t.render({{"system", "s"}, {"user", "u"}}, true, "<s>", "</s>");
                ++parsed;
            } catch (const TemplateError& e) {
                QVERIFY(e.line() >= 1 && e.column() >= 1);
            }
        }
        QVERIFY(parsed > 0);
        QCOMPARE(ChatTemplate(source).render({{"system", " s "}, {"user", "u"}}, true, "<s>", "</s>"), std::string("<s>s<|user|>\nu</s>"));
    }

    // Lists and dicts are shared by reference, so a template can build a value that contains
    // itself; every walk over it must stop with a render error instead of overflowing the stack.
    void selfReferentialValues_data()
    {
        QTest::addColumn<QString>("source");
        const char* selfList = "{% set a = [] %}{% set _ = a.append(a) %}{% set b = [] %}{% set _ = b.append(b) %}";
        auto row = [&](const char* name, std::string body) {
            QTest::newRow(name) << QString::fromStdString(selfList + body);
        };
        row("str", "{{ a }}");
        row("repr in string filter", "{{ a|string }}");
        row("tojson", "{{ a|tojson }}");
        row("tojson indent", "{{ a|tojson(indent=2) }}");
        row("equality", "{{ a == a }}");
        row("two distinct cycles", "{{ a != b }}");
        row("in", "{{ a in [b] }}");
        row("concat", "{{ 'x' ~ a }}");
        row("unique", "{{ [a, a]|unique|list|length }}");
        row("index", "{{ [b].index(a) }}");
        QTest::newRow("dict via namespace")
            << QStringLiteral("{% set ns = namespace(x=1) %}{% set ns.me = ns %}{{ ns }}");
        QTest::newRow("dict tojson")
            << QStringLiteral("{% set ns = namespace(x=1) %}{% set ns.me = ns %}{{ ns|tojson }}");
    }

    void selfReferentialValues()
    {
        QFETCH(QString, source);
        try {
            render(source.toStdString());
            QFAIL("rendering a self-referential value did not fail");
        } catch (const TemplateRenderError& e) {
            QVERIFY2(e.problem().find("nested more than 256 levels") != std::string::npos, e.what());
            QVERIFY(e.line() >= 1 && e.column() >= 1);
        }
    }

    void deepButFiniteNesting()
    {
        // 200 levels is within the bound and prints in full; 300 levels is refused.
        auto nested = [](int depth, const char* print) {
            return "{% set ns = namespace(a=[]) %}{% for i in range(" + std::to_string(depth) +
                   ") %}{% set ns.a = [ns.a] %}{% endfor %}" + print;
        };
        QCOMPARE(render(nested(200, "{{ ns.a }}")), std::string(201, '[') + std::string(201, ']'));
        QCOMPARE(render(nested(200, "{{ ns.a|tojson }}")), std::string(201, '[') + std::string(201, ']'));
        QCOMPARE(render(nested(200, "{{ ns.a == ns.a }}")), std::string("True"));
        QVERIFY_THROWS_EXCEPTION(TemplateRenderError, render(nested(300, "{{ ns.a }}")));
        QVERIFY_THROWS_EXCEPTION(TemplateRenderError, render(nested(300, "{{ ns.a|tojson }}")));
        QVERIFY_THROWS_EXCEPTION(TemplateRenderError, render(nested(300, "{{ ns.a == ns.a }}")));
    }

    void workBudget()
    {
        auto expectProblem = [](const std::string& source, const char* fragment) {
            QElapsedTimer timer;
            timer.start();
            try {
                render(source);
                QFAIL(("template did not fail: " + source).c_str());
            } catch (const TemplateRenderError& e) {
                QVERIFY2(e.problem().find(fragment) != std::string::npos, e.what());
            }
            // Release builds take well under a second; the bound is for slow debug/sanitizer runs.
            QVERIFY2(timer.elapsed() < 60000, "limit took too long to trigger");
        };
        // Nested loops: 10^12 iterations without the budget.
        expectProblem("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}",
                      "evaluation steps");
        // A loop that builds a big list each pass.
        expectProblem("{% for i in range(1000000) %}{% set x = range(1000000) %}{% endfor %}", "evaluation steps");
        expectProblem("{{ range(100000000) }}", "range() too large");
        // Output and intermediate text are capped at 16 MiB.
        expectProblem("{% for i in range(1000) %}{{ 'x' * 1000000 }}{% endfor %}", "template output exceeds 16 MiB");
        expectProblem("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                      "text longer than 16 MiB");
        expectProblem("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                      "text longer than 16 MiB");
        expectProblem("{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
                      "list longer than 1000000 items");
        // A list shared 2^24 ways: small to build, huge to print or compare.
        const std::string doubling =
            "{% set ns = namespace(l=[1]) %}{% for i in range(24) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}";
        expectProblem(doubling + "{{ ns.l }}", "text longer than 16 MiB");
        expectProblem(doubling + "{{ ns.l|tojson }}", "text longer than 16 MiB");
        expectProblem(doubling + "{{ ns.l == ns.l }}", "comparison visits more than");
        // Ordinary loops well inside the budget still work.
        QCOMPARE(render("{% for i in range(100000) %}{% endfor %}{{ range(1000)|sum }}"), std::string("499500"));
    }

    void renderErrors()
    {
        try {
            render("line\n  {{ 'a' - 'b' }}");
            QFAIL("string minus string did not fail");
        } catch (const TemplateRenderError& e) {
            QCOMPARE(e.line(), 2);
            QCOMPARE(e.column(), 10);
            QCOMPARE(QString::fromStdString(e.problem()), QStringLiteral("unsupported operand types for -: 'string' and 'string'"));
        }
        QVERIFY_THROWS_EXCEPTION(TemplateRenderError, render("{{ nosuchfunction(1) }}"));
        QVERIFY_THROWS_EXCEPTION(TemplateRenderError, render("{{ 'a' + 1 }}"));
        QVERIFY_THROWS_EXCEPTION(TemplateRenderError, render("{{ 1 / 0 }}"));
        QVERIFY_THROWS_EXCEPTION(TemplateRenderError, render("{% set x = 1 %}{% set x.y = 2 %}"));
        QVERIFY_THROWS_EXCEPTION(TemplateRenderError, render("{{ 'abc'.nomethod() }}"));
    }
};

QTEST_APPLESS_MAIN(TestJinja)
#include "tst_jinja.moc"
