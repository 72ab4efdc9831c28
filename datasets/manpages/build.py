"""Build the manual-pages question set: eight Unix manual pages, 105 questions, most in other words.

Usage:
    python datasets/manpages/build.py OUT.jsonl
    python benchmarks/evidence_reach.py OUT.jsonl [--dense auto|on|off]
    python benchmarks/context_recall.py OUT.jsonl [--dense]

The pages are not in this repository: they are rendered from the manual pages installed on the
machine (bash(1), curl(1), find(1), ssh_config(5), apt.conf(5), git-commit(1), useradd(8),
systemd.timer(5): 2k to 53k words), as `LC_ALL=C.UTF-8 MANWIDTH=80 man -L C -E UTF-8 -P cat -s
SECTION NAME` renders them with none of the reader's `man` settings. The questions and gold answers are below, 12 to 14 a page, written by a helper
that never saw pearl's code, as a user of the program would ask; most share at most a quarter of
their words with the answer, and the answers spread over each page. Each gold was checked on
Debian 12's pages (bash 5.2.15, curl 7.88.1, findutils 4.9.0, openssh 9.2p1, apt 2.6.1, git 2.39.5,
passwd 4.13, systemd 252); another release words some of them otherwise, and a question whose gold
its page does not hold is left out, named, rather than the set refused.

Each gold is written with single spaces; the page's own text is what is written out, found by a
whitespace-tolerant match. pearl chose nothing with this set: it was written, and first measured,
after every setting the README quotes was fixed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _rows import build_rows, not_run, write_rows

# (question, gold written with single spaces), per manual page "NAME.SECTION"
DATA: dict[str, list[tuple[str, str]]] = {
    "useradd.8": [
        (
            "On Debian, which higher-level program is recommended for creating accounts rather than this one?",
            "administrators should usually use adduser(8) instead",
        ),
        ("In what format is the expiry date specified?", "specified in the format YYYY-MM-DD"),
        (
            "When listing extra groups for the account, what separates the group names?",
            "separated from the next by a comma, with no intervening whitespace",
        ),
        (
            "If -k is not given, where is the skeleton directory defined?",
            "SKEL variable in /etc/default/useradd or, by default, /etc/skel",
        ),
        (
            "Why is passing an initial password with -p on the command line discouraged?",
            "the password (or encrypted password) will be visible by users listing the processes",
        ),
        (
            "What state is the new account left in if no password option is given?",
            "the new account will be locked and with no password defined",
        ),
        (
            "Which option must I add to get a home folder for a service (system) account?",
            "You have to specify the -m options",
        ),
        (
            "What characters are permitted in a login name?",
            "only lower and upper case letters, digits, underscores, or dashes",
        ),
        ("What is the maximum length of a login name?", "Usernames may only be up to 32 characters long"),
        (
            "Why is it a bad idea to start an account name with a period?",
            "their home directories will be hidden in the ls output",
        ),
        ("If UMASK is not specified, what is the mask initialized to?", "the mask will be initialized to 022"),
        ("What does exit status 12 from useradd indicate?", "can't create home directory"),
    ],
    "git-commit.1": [
        (
            "I just committed something wrong; how can I back out of it right away?",
            "you can recover from it with git reset",
        ),
        (
            "When I use the option that stages everything automatically, which files are left out?",
            "new files you have not told Git about are not affected",
        ),
        ("How do I read the commit message from standard input?", "Use - to read the message from the standard input"),
        ("How are the values of multiple -m options combined?", "their values are concatenated as separate paragraphs"),
        ("How can I skip the pre-commit and commit-msg hooks?", "any of --no-verify or -n"),
        (
            "What does the strip cleanup mode remove from the message?",
            "Strip leading and trailing empty lines, trailing whitespace, commentary and collapse consecutive empty lines",
        ),
        ("How do I fix up my last commit while keeping its message as is?", "git commit --amend --no-edit"),
        (
            "What happens if I close the editor without touching the prefilled message template?",
            "the commit is aborted",
        ),
        (
            "Where does Git take the author name and email from if the GIT_AUTHOR_* variables are not set?",
            "the configuration items user.name and user.email",
        ),
        (
            "How short should the first line summarizing the change in a commit message be?",
            "a single short (less than 50 character) line summarizing the change",
        ),
        (
            "How do I tell Git that my project writes its log messages in Latin-1?",
            "have i18n.commitEncoding in .git/config file",
        ),
        (
            "Why doesn't Git convert log text into Unicode at commit time?",
            "re-coding to UTF-8 is not necessarily a reversible operation",
        ),
        (
            "Which environment and configuration variables choose the editor, and in what order?",
            "the GIT_EDITOR environment variable, the core.editor configuration variable, the VISUAL environment variable, or the EDITOR environment variable",
        ),
    ],
    "systemd.timer.5": [
        ("By default, which service does a timer file foo.timer activate?", "activates a matching service foo.service"),
        (
            "What happens when the timer fires again but the service is still up from last time?",
            "it is not restarted, but simply left running",
        ),
        (
            "Why are services with RemainAfterExit= a poor fit for repeating timers?",
            "they will only be activated once, and then stay around forever",
        ),
        (
            "Why are timers with OnCalendar= ordered after time-sync.target?",
            "to avoid being started before the system clock has been correctly set",
        ),
        (
            "If I write a plain number without a suffix for the boot-relative settings, how is it interpreted?",
            "time spans configured in seconds",
        ),
        (
            "What does the monotonic clock do if the computer is temporarily suspended?",
            "the monotonic clock generally pauses, too",
        ),
        (
            "If a calendar timer elapsed several times while the machine slept, how many times does the service run on resume?",
            "the timer will only result in a single service activation",
        ),
        ("What should AccuracySec= be set to for the most precise firing?", "set this option to 1us"),
        (
            "Why would I want similar jobs on many machines to kick off at slightly different moments?",
            "to prevent them from firing all at the same time, possibly resulting in resource congestion",
        ),
        (
            "What is the fixed random delay derived from when FixedRandomDelay= is on?",
            "the machine ID, the manager's user identifier, and the timer unit's name",
        ),
        (
            "What's the point of storing the last trigger time on disk?",
            "to catch up on missed runs of the service when the system was powered down",
        ),
        (
            "How do I delete the stamp file kept by Persistent= before removing the timer?",
            "Use systemctl clean --what=state ... on the timer unit",
        ),
        (
            "Which clock drives monotonic timers when WakeSystem= is enabled?",
            "continues advancing during system suspend (CLOCK_BOOTTIME)",
        ),
    ],
    "find.1": [
        ("Which directory does find search if I give no path?", "If no starting-point is specified, `.' is assumed"),
        ("How does find treat symlinks out of the box?", "Never follow symbolic links. This is the default behaviour"),
        (
            "With -atime +1, how long ago must a file have been read to match?",
            "a file has to have been accessed at least two days ago",
        ),
        (
            "Why does -name a/b never match anything?",
            "the file names considered for a match with -name will never include a slash",
        ),
        ("Why isn't -size -1M equivalent to -size -1048576c?", "the size is rounded up to the next unit"),
        (
            "Why is putting -delete at the start of the expression dangerous?",
            "find try to delete everything below the starting points you specified",
        ),
        (
            "When will the delete action refuse to remove a folder?",
            "will fail to remove a directory unless it is empty",
        ),
        (
            "With the -exec command {} + form, how is the command line built?",
            "the command line is built by appending each selected file name at the end",
        ),
        (
            "How do I skip the directory src/emacs while printing everything else?",
            "find . -path ./src/emacs -prune -o -print",
        ),
        ("How can I halt the search once a single hit is located?", "find / -name needle -print -quit"),
        ("If I control the output format, what's the safest separator between names?", "use `\\0' as a terminator"),
        (
            "Why does find . -name afile -o -name bfile -print never print afile?",
            "the precedence of -a is higher than that of -o",
        ),
        (
            "If find exits with a non-zero status, how much can I trust what it printed?",
            "you should not rely on the correctness of the results of find",
        ),
    ],
    "ssh_config.5": [
        (
            "When a setting appears in more than one place, which occurrence takes effect?",
            "the first obtained value will be used",
        ),
        (
            "Where in the file should host-specific declarations and general defaults go?",
            "should be given near the beginning of the file, and general defaults at the end",
        ),
        ("What Host pattern gives global defaults for every host?", "A single ‘*’ as a pattern"),
        (
            "What does BatchMode=yes turn off?",
            "user interaction such as password prompts and host key confirmation requests",
        ),
        (
            "What's the risk of passing my authentication helper through to a server?",
            "can access the local agent through the forwarded connection",
        ),
        (
            "By default, after how long is untrusted X11 forwarding shut off?",
            "disable untrusted X11 forwarding after twenty minutes has elapsed",
        ),
        (
            "Which private key files does ssh try when none are configured?",
            "~/.ssh/id_rsa, ~/.ssh/id_ecdsa, ~/.ssh/id_ecdsa_sk, ~/.ssh/id_ed25519, ~/.ssh/id_ed25519_sk and ~/.ssh/id_dsa",
        ),
        (
            "Where should I put the directive that suppresses errors about unrecognized keywords?",
            "listed early in the configuration file",
        ),
        (
            "If I set both ProxyCommand and ProxyJump, which one applies?",
            "whichever is specified first will prevent later instances of the other from taking effect",
        ),
        (
            "With ServerAliveInterval 15 and the count left at its default, how soon does ssh give up on a dead server?",
            "ssh will disconnect after approximately 45 seconds",
        ),
        (
            "What does setting StrictHostKeyChecking to accept-new do?",
            "ssh will automatically add new host keys to the user's known_hosts file, but will not permit connections to hosts with changed host keys",
        ),
        (
            "What convenience might I lose by turning on name obfuscation in known_hosts?",
            "may break facilities such as tab-completion",
        ),
        (
            "What permissions does my per-user client config file need?",
            "read/write for the user, and not writable by others",
        ),
    ],
    "apt.conf.5": [
        (
            "Which configuration source does APT read first when it starts?",
            "the file specified by the APT_CONFIG environment variable",
        ),
        (
            "What punctuation is mandatory around each value in a config line?",
            "The quotation marks and trailing semicolon are required",
        ),
        (
            "On the command line, how do I append one more element to a list option?",
            "add a trailing :: to the name of the list",
        ),
        ("What kind of identifier goes into the Default-Release setting?", "release name, codename or release version"),
        (
            "Why does APT set up essential packages right away during an upgrade?",
            "in order to limit the effect of a failing dpkg(1) call",
        ),
        ("What is the default value of Cache-Start?", "The default value is 20971520 bytes (~20 MB)"),
        ("What does Queue-Mode host mean for outgoing connections?", "one connection per target host will be opened"),
        (
            "How do I make APT prefer xz-compressed indexes over gzip and bzip2?",
            'Acquire::CompressionTypes::Order { "xz"; "gz"; };',
        ),
        (
            "What's the downside of keeping downloaded indexes compressed on disk?",
            "more CPU requirements when building the local package caches",
        ),
        ("How do I stop APT from using any translated description files?", "use the setting Acquire::Languages=none"),
        (
            "I want to relocate only non-absolute locations; which setting should I change instead of RootDir?",
            "If you want to prefix only relative paths, set Dir instead",
        ),
        (
            "Which files in the config fragment directories are skipped without a notice by default?",
            "a file which ends with .disabled, ~, .bak or .dpkg-[a-z]+",
        ),
        (
            "Which option lets me run some apt-get operations, like simulated installs, without root?",
            "Debug::NoLocking disables all file locking",
        ),
    ],
    "curl.1": [
        (
            "How can I fetch several numbered files like file1 through file100 in one command?",
            "get sequences of alphanumeric series by using []",
        ),
        (
            "What does curl guess when I leave the scheme off a URL?",
            "default to HTTP but try other protocols based on often-used host name prefixes",
        ),
        ("What must I do to see transfer progress during an HTTP POST?", "redirect the response output to a file"),
        ("What does the number passed to --continue-at mean?", "the exact number of bytes that will be skipped"),
        ("Which option should I use to post data purely as binary?", "you should instead use the --data-binary option"),
        ("Which response codes can slip through when using --fail?", "response codes 401 and 407"),
        (
            "After a 301, 302 or 303 reply to a POST, which method does curl use for the follow-up?",
            "it will send the following request with a GET",
        ),
        ("What is the default limit on redirects curl follows with -L?", "the limit is set to 50 redirects"),
        (
            "Apart from the one transfer, why is skipping certificate checks risky?",
            "can make curl trust and use such information from malicious servers",
        ),
        ("In what unit is the --limit-rate value interpreted when there is no suffix?", "is measured in bytes/second"),
        (
            "What kinds of failures will curl automatically try again on?",
            "a timeout, an FTP 4xx response code or an HTTP 408, 429, 500, 502, 503 or 504 response code",
        ),
        (
            "How do I ask -z for a document older than the given date instead of newer?",
            "Start the date expression with a dash (-)",
        ),
        (
            "Which has precedence for environment variables, the lower case or the upper case version?",
            "The lower case version has precedence",
        ),
        ("What does exit code 28 mean?", "The specified time-out period was reached"),
    ],
    "bash.1": [
        (
            "Which personal files does a login shell look for after /etc/profile, and in what order?",
            "~/.bash_profile, ~/.bash_login, and ~/.profile, in that order",
        ),
        ("Piping with |& is equivalent to which longer redirection?", "it is shorthand for 2>&1 |"),
        (
            "What happens if I try to put an apostrophe between single quotes, even escaped with a backslash?",
            "A single quote may not occur between single quotes",
        ),
        (
            "Which PID does the exclamation-mark special variable hold?",
            "the process ID of the job most recently placed into the background",
        ),
        (
            "How can I get zero-padded numbers like 01, 02 from a range in braces?",
            "may be prefixed with 0 to force each term to have the same width",
        ),
        (
            "My shortcut has to accept parameters - what should I write instead of an alias?",
            "If arguments are needed, use a shell function",
        ),
        (
            "What exit status does bash report for a command killed by signal N?",
            "bash uses the value of 128+N as the exit status",
        ),
        ("What code comes back when a program file is found but lacks permission to run?", "the return status is 126"),
        (
            "How do I stop a background task from being killed when I close my terminal session?",
            "removed from the jobs table with the disown builtin",
        ),
        (
            "What is the ultimate default inputrc file when INPUTRC is unset and ~/.inputrc cannot be read?",
            "the ultimate default is /etc/inputrc",
        ),
        (
            "Running the change-directory builtin with nothing after it takes me where?",
            "the value of the HOME shell variable is the default",
        ),
        (
            "How can I arrange for a cleanup command to fire when my script finishes?",
            "If a sigspec is EXIT (0) the command arg is executed on exit from the shell",
        ),
        (
            "What happens to the restrictions when rbash runs a shell script?",
            "rbash turns off any restrictions in the shell spawned to execute the script",
        ),
        (
            "How can a sequence like a ; b ; c be suspended as one unit?",
            "place the sequence of commands between parentheses to force it into a subshell",
        ),
    ],
}


def render(page: str) -> tuple[str | None, str]:
    """The page as `man` renders it in English at 80 columns, overstrikes and tabs removed, or None and why not.

    `man` is run with no setting of the reader's (a language, a section list, roff options, a pager):
    any of them would change the text, and so which golds are found and what the benchmarks measure.
    """
    name, section = page.rsplit(".", 1)
    env = {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C.UTF-8", "MANWIDTH": "80"}
    done = subprocess.run(
        ["man", "-L", "C", "-E", "UTF-8", "-P", "cat", "-s", section, name],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        said = next((line.strip() for line in done.stderr.splitlines() if line.strip()), "")
        return None, said or f"man exited with {done.returncode} and no page"
    return re.sub(r".\x08", "", done.stdout).expandtabs(), ""


def build() -> tuple[list[dict[str, object]], list[str]]:
    """One L-Eval row per page found, and what was left out (a page not installed, a gold its page lacks)."""
    return build_rows(DATA, render, "manpages", "not rendered")


def main(argv: list[str]) -> int:
    if (code := not_run(argv, "python datasets/manpages/build.py OUT.jsonl", __doc__)) is not None:
        return code
    if shutil.which("man") is None:
        print("no `man` here: install man-db (apt-get install -y man-db)", file=sys.stderr)
        return 2
    return write_rows(argv[0], *build(), "manual pages")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
