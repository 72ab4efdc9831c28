"""Build a held-out question set from six Debian changelogs (/usr/share/doc/PKG/changelog.Debian.gz).

Usage:
    python datasets/changelogs/build.py OUT.jsonl

The packages: gzip, bzip2, make, debianutils, openssh-client, coreutils. The questions and golds were written
by a helper that never saw pearl's code, before pearl was measured on them; a question shares about a tenth of
its gold's words. The text is what `zcat` gives: one entry per release, its version line, its bullets indented
under it and its trailer (" -- Name <mail> Date"). None is a licence, a manual page, a web page or a README.

Each gold is written with single spaces; the document's own text is what is written out, found by a
whitespace-tolerant match, so every gold is verbatim in its document. A changelog not installed, or a gold
its text lacks (another release of the package adds entries, never rewrites old ones), is left out and named.
The output layout is the one the other sets' builders write (one L-Eval row a document; `datasets/_rows.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _rows import build_rows, not_run, read_installed, write_rows

SOURCE = "debian-changelog"

DATA: dict[str, list[tuple[str, str]]] = {
    "/usr/share/doc/gzip/changelog.Debian.gz": [
        (
            "What identifier was the zgrep hole that let an attacker overwrite arbitrary files tracked under?",
            "address CVE-2022-1271 (closes: #1009168)",
        ),
        (
            "How long had the previous maintainer looked after this package when he handed it over?",
            "a quarter of a century worth of contributions",
        ),
        (
            "Whose work gave gzip its option for producing archives that sync efficiently with rsync?",
            "merge patch from Rusty Russell that adds --rsyncable option to gzip",
        ),
        (
            "Why does the pager wrapper always use more and ignore the PAGER variable?",
            "to avoid violating the principle of least astonishment",
        ),
        (
            "Which processor architectures were affected when the hand-written assembly code was switched off?",
            "this affects i386, m68k and ia64",
        ),
        (
            "What sort of archives triggered the integer underflow fixed in early 2010?",
            "decompressing files that are compressed using the LZW algorithm",
        ),
        (
            "Why did the package decide against shipping a link named after the old Unix compression command?",
            "don't provide a 'compress' link since it breaks things",
        ),
        (
            "What was the trade-off of the workaround for crashes on Alpha while building X?",
            "at the expense of slightly decreasing the effectiveness of the deflate implementation",
        ),
        (
            "What change was made so that building the package twice gives identical output?",
            "stop including date in manual to enable reproducible builds",
        ),
        (
            "Who made the non-maintainer upload that switched off the assembly optimisations, and on what date?",
            "Andreas Henriksson <andreas@fatal.se> Sat, 29 Sep 2018",
        ),
        (
            "Why would gzip stop warning about padding bytes after the compressed data, for instance from tar?",
            "as they're commonly appended to fill out a block",
        ),
    ],
    "/usr/share/doc/bzip2/changelog.Debian.gz": [
        (
            "Why was the project's homepage switched to an archived copy of the old site?",
            "because the bzip.org domain has expired and may change hands",
        ),
        (
            "Why did the package stop shipping the PostScript version of the manual?",
            "Since Debian policy recommends HTML as the default documentation format",
        ),
        (
            "What replaced the removed temporary-file helper in the script that makes self-decompressing executables?",
            "Use mktemp in bzexe instead of the no longer available tempfile",
        ),
        (
            "What was done in 2020 so that very large files work again on 32-bit systems?",
            "Append -D_FILE_OFFSET_BITS=64 variable to buildflags",
        ),
        (
            "Which vulnerability identifier goes with the check on the number of Huffman selectors?",
            "Make sure nSelectors is not out of range (CVE-2019-12900)",
        ),
        (
            "Which entry jokes about uploading after a party, and whom does it thank?",
            "Thanks to bubulle, habanero and all the Cheese and Wine orga team",
        ),
        (
            "Whose contribution first let programs link against a shared bz2 library?",
            "Thanks to the patch from \"Sean 'Shaleh' Perry\" <shaleh@varesearch.com>",
        ),
        ("On what date was the very first Debian package of bzip2 uploaded?", "Sat, 11 Oct 1997 16:52:07 -0600"),
        (
            "Was there ever a problem with the quiet integrity check reporting success on broken files?",
            "bunzip2 -qt returns 0 for corrupt archives",
        ),
        (
            "What earlier change had accidentally stopped the force flag from overwriting existing files?",
            "changed the fopen call to be safer with O_EXCL",
        ),
        (
            "Why was the development library package made to recommend the documentation package?",
            "to fulfill the lack of specific development documentation",
        ),
    ],
    "/usr/share/doc/make/changelog.Debian.gz": [
        (
            "Why did the maintainer close the 'Profiling timer expired' report without fixing anything?",
            "This bug is a decade old, and I can't reprodsuce it.",
        ),
        (
            "What is the build profile that skips Guile good for?",
            "This eases (cross-)building the make package when bootstrapping a new architecture.",
        ),
        (
            "Is there a way in a makefile to know whether the most recent shell command call succeeded?",
            "$(.SHELLSTATUS) is set to the exit status of the last != or $(shell ...) function",
        ),
        (
            "What was the internal option for the parallel job token pipe renamed to when it became public?",
            "has been renamed for publishing, to --jobserver-auth",
        ),
        (
            "Why did the maintainer add a default modifier to the flags make passes to the archiver?",
            "Make needs the timestamps to knpow when to update archie members",
        ),
        (
            "What was the root cause of make mishandling Cyrillic and other non-ASCII characters in makefiles?",
            "where a character is converted to an int",
        ),
        (
            "Which helper script was added that, given several candidate targets, builds one of them?",
            "given a list of targets, will build the first target that actually exists",
        ),
        (
            "Why did an old build of make end up with group privileges to read kernel memory?",
            "A bug in autoconf made make setgid kmem.",
        ),
        (
            "Do prerequisites that only enforce build ordering cause their dependents to be rebuilt?",
            "they do not impact the rebuild/no-rebuild decision of their dependents",
        ),
        (
            "What was wrong with the French localisation in 2001?",
            "translates 'free software' into 'logiciel gratuit' instead of 'logiciel libre'",
        ),
        (
            "What workaround did upstream suggest when one included makefile needs to know how to build another?",
            'put the "include b.mak" _inside_ of the a.mak file',
        ),
        (
            "On what date was the upload that put /usr/local/include ahead of /usr/include in the search order?",
            "Fri, 05 Jun 2020 18:59:32 -0700",
        ),
    ],
    "/usr/share/doc/debianutils/changelog.Debian.gz": [
        (
            "What made the boot-floppy maker obsolete, according to the maintainers who dropped it?",
            "mkboot only works on floppy diskette drives, which are increasingly rare beasts",
        ),
        (
            "Where do I find sensible-editor and its siblings now that this package no longer ships them?",
            "declare a dependency on sensible-utils, to which they have moved",
        ),
        ("What decision forced the upload that brought back which and tempfile?", "Implement CTTE ruling #994275."),
        (
            "Why is the command that locates programs on PATH managed through the alternatives system?",
            "so people can package FreeBSD which and GNU which as replacements",
        ),
        (
            "Who wrote the program that tells a script whether it is running inside a chroot?",
            "ischroot utility by Aurelien Jarno to detect chrootedness",
        ),
        (
            "Does run-parts start its scripts in a new session by default?",
            "making setsid() optional and off by default",
        ),
        (
            "How do I get the log rotation script to compress old logs with xz?",
            "savelog: add -J option for xz compression",
        ),
        (
            "Why does sensible-browser refuse to run itself when it appears in $BROWSER?",
            "because that would be insensate",
        ),
        (
            "In the release that started shipping README.shells, which shells were taken out of the default list?",
            "Remove ash, bash, sash, and zsh from the default /etc/shells list",
        ),
        (
            "Which package provided the tools for registering login shells before debianutils took them over?",
            "Steal add-shell, remove-shell, add-shell.8, and remove-shell.8 from passwd",
        ),
        ("Which package did the log-rotation script savelog originally belong to?", "Savelog moved in from cron."),
        ("With what access mode does tempfile create its files by default?", "tempfile: default permission is 0600"),
    ],
    "/usr/share/doc/openssh-client/changelog.Debian.gz": [
        (
            "What did the server's blanket switch for turning off forwarding fail to do before the 2025 fix?",
            "failing to disable X11 forwarding and agent forwarding as documented",
        ),
        (
            "Why does Debian now always build with OpenSSH's own temporary-directory routine rather than the C "
            "library's?",
            "it substitutes more randomness into the template string than glibc's version",
        ),
        (
            "Which researchers found the prefix-truncation attack on the SSH transport that was patched in late 2023?",
            "discovered by Fabian Bäumer, Marcus Brinkmann and Jörg Schwenk",
        ),
        (
            "Can I still open the client-side command prompt with the tilde escape to add port forwards on the fly, "
            "out of the box?",
            'This option defaults to "no", disabling the ~C command-line that was previously enabled by default.',
        ),
        (
            "Why won't generating all default host key types produce a DSA key anymore?",
            "as these are insecure and have not been used by default for some years",
        ),
        (
            "With a minimum RSA key length configured, what does the client do if the server presents a shorter host "
            "key?",
            "ssh(1) will terminate a connection if the server offers an RSA key that falls below this limit",
        ),
        (
            "After scp switched transports, how do I make it talk the legacy protocol to an old server?",
            "The -O option is available to use the old protocol.",
        ),
        (
            "Why was the post-quantum key exchange combined with the classical elliptic-curve one instead of used "
            "alone?",
            "as a backstop against any weaknesses in NTRU Prime that may be discovered in the future",
        ),
        (
            "When I copy between two remote hosts with scp, does the data flow directly between them?",
            "to transfer through the local host by default",
        ),
        ("What is the system group used by the agent called after the 2021 change?", "Rename ssh group to _ssh"),
        (
            "How did OpenSSH start guarding private keys held in RAM against side-channel CPU bugs?",
            "This release encrypts private keys when they are not in use with a symmetric key",
        ),
        (
            "If I set the server's keepalive miss count to zero, does it drop connections immediately?",
            "it will now disable connection killing entirely",
        ),
    ],
    "/usr/share/doc/coreutils/changelog.Debian.gz": [
        (
            "Why was the removal of the LC_TIME symlinks undone?",
            "causes problems with date display in some circumstances",
        ),
        (
            "Which release let a script's shebang line pass several arguments through env?",
            "env -S support to pass multiple arguments in #! lines",
        ),
        (
            "Why did the maintainer first keep the coreutils timeout command from replacing the standalone package "
            "of that name?",
            "I think coreutils timeout is just different enough that it shouldn't replace that package.",
        ),
        (
            "Why were the build-time tests turned off in 2013?",
            "of late they've failed more because of buildd oddities than real problems",
        ),
        (
            "Why was the shortcut that skipped the real chroot call when the target is / removed?",
            "has caused problems with bind mounts",
        ),
        (
            "cp now refuses to write through a broken destination symlink; how do I get it to do so anyway?",
            "Set POSIXLY_CORRECT if you require the old, risk-prone behavior.",
        ),
        (
            "Why were the longer SHA-2 checksum tools dropped from the IBM mainframe build?",
            "s390 just doesn't seem to like sha384 (tests fail)",
        ),
        (
            "Where was the code for showing IP addresses instead of host names in who borrowed from?",
            "Code taken from last.c in sysvinit-2.86.ds1",
        ),
        (
            "What does the new hyperlink output format of ls give users?",
            "terminals with appropriate support get clickable links",
        ),
        (
            "How did the time-zone offset in ISO-format date output change in 8.25?",
            "now uses +00:00 timezone format rather than +0000",
        ),
        (
            "Since POSIX compliance, what character separates the number from the text in uniq's counted output?",
            "uniq -c now uses a SPACE, not a TAB between the count",
        ),
        (
            "Why was the detailed processor type output of uname reverted soon after it was introduced?",
            "basically no positive feedback",
        ),
    ],
}


def build() -> tuple[list[dict[str, object]], list[str]]:
    """One L-Eval row per changelog found, and what was left out (a changelog not installed, a gold it lacks)."""
    return build_rows(DATA, read_installed, SOURCE, "not read")


def main(argv: list[str]) -> int:
    if (code := not_run(argv, "python datasets/changelogs/build.py OUT.jsonl", __doc__)) is not None:
        return code
    return write_rows(argv[0], *build(), "documents")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
