#!/usr/bin/env python3
"""Writes a man page (roff) for a Tenfold program from its own --help text, so the manual never
disagrees with the program. usage: gen_manpage.py PROGRAM NAME SECTION SUMMARY OUT [--commands]
With --commands (tenfold-cli), every command its --help lists gets a section from
`PROGRAM COMMAND --help`."""
import subprocess, sys, datetime

def roff(text):
    out = []
    for line in text.rstrip().splitlines():
        line = line.replace('\\', '\\\\').replace('-', '\\-')
        if line.startswith(('.', "'")):
            line = '\\&' + line
        out.append(line)
    return '\n'.join(out)

def help_of(args):
    env = {'QT_QPA_PLATFORM': 'offscreen', 'LANG': 'C', 'PATH': '/usr/bin:/bin'}
    r = subprocess.run(args, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f'gen_manpage: {" ".join(args)} exited {r.returncode}: {r.stderr}')
    return r.stdout

def main():
    program, name, section, summary, out = sys.argv[1:6]
    subs = []
    if '--commands' in sys.argv[6:]:
        listing = help_of([program, '--help']).split('commands:', 1)[-1]
        subs = [l.split()[0] for l in listing.splitlines() if l.startswith('  ') and l.split()]
    date = datetime.date.today().isoformat()
    page = [f'.TH {name.upper()} {section} "{date}" "Tenfold" "Tenfold manual"',
            '.SH NAME', f'{name} \\- {summary}', '.SH SYNOPSIS AND OPTIONS', '.nf',
            roff(help_of([program, '--help'])), '.fi']
    for sub in subs:
        page += [f'.SH COMMAND {sub.upper()}', '.nf', roff(help_of([program, sub, '--help'])), '.fi']
    page += ['.SH SEE ALSO', 'tenfold(1), tenfold\\-cli(1), tenfold\\-server(1)', '']
    with open(out + '.tmp', 'w') as f:
        f.write('\n'.join(page))
    import os
    os.replace(out + '.tmp', out)

main()
