"""Build the licences question set: eight software licences, 96 questions written to paraphrase.

Usage:
    python datasets/licences/build.py OUT.jsonl
    python benchmarks/evidence_reach.py OUT.jsonl [--dense auto|on|off]
    python benchmarks/context_recall.py OUT.jsonl [--dense]

The licence texts are not in this repository: they are read from `/usr/share/common-licenses`,
which Debian and Ubuntu install with every system (GPL-3, GPL-2, LGPL-2.1, GFDL-1.3, MPL-2.0,
MPL-1.1, Apache-2.0, Artistic). The questions and their gold answers are below: 12 a licence,
written by a helper that never saw pearl's code, a third in the contract-review layout of the
L-Eval contracts and the rest as a developer or a lawyer would ask, most sharing at most a
quarter of their words with the answer; the golds spread over every quarter of each text.

Each gold is written with single spaces; the file's own text (its line breaks and indentation)
is what is written out, found by a whitespace-tolerant match, so every gold is verbatim in its
document. The script stops, naming the question, if a gold is not found exactly once.

pearl chose its dense signal's weight with this set among four (README, "Dense similarity"):
it is a development set, not a held-out one.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _rows import not_run

LICENCES = Path("/usr/share/common-licenses")


def cuad(category: str, details: str) -> str:
    """A question in the contract-review (CUAD) layout the L-Eval contracts use."""
    return (
        f'Highlight the parts (if any) of this contract related to "{category}" '
        f"that should be reviewed by a lawyer. Details: {details}"
    )


# (question, gold written with single spaces), per licence file
DATA: dict[str, list[tuple[str, str]]] = {
    "GPL-3": [
        (
            "If I run a modified version as a web service that people use over the internet but never give them the files, am I distributing it?",
            "Mere interaction with a user through a computer network, with no transfer of a copy, is not conveying.",
        ),
        (
            cuad(
                "Irrevocable or Perpetual License",
                "Whether the license is irrevocable or perpetual, and for how long the granted rights last.",
            ),
            "All rights granted under this License are granted for the term of copyright on the Program, and are irrevocable provided the stated conditions are met.",
        ),
        (
            "Can I hand the code to an outside contractor to customize it for us without that counting as passing it on?",
            "You may convey covered works to others for the sole purpose of having them make modifications exclusively for you",
        ),
        (
            "Am I allowed to sell copies, and is there a ceiling on what I can ask for them?",
            "You may charge any price or no price for each copy that you convey",
        ),
        (
            "For a hardware device I ship, how long does my offer to supply source on request have to stay open?",
            "valid for at least three years and valid for as long as you offer spare parts or customer support for that product model",
        ),
        (
            "If it's unclear whether a device is meant for household use, which way should the question be decided?",
            "In determining whether a product is a consumer product, doubtful cases shall be resolved in favor of coverage.",
        ),
        (
            "How long do I get to fix a breach once the copyright holder tells me about it, assuming it's my first offense?",
            "you cure the violation prior to 30 days after your receipt of the notice",
        ),
        (
            cuad(
                "Change of Control",
                "Provisions addressing what happens to the license when a company is acquired, merged, or its assets are transferred.",
            ),
            "each party to that transaction who receives a copy of the work also receives whatever licenses to the work the party's predecessor in interest had or could give",
        ),
        (
            cuad("Patent Grant", "Any license of patent rights granted by contributors to recipients of the software."),
            "Each contributor grants you a non-exclusive, worldwide, royalty-free patent license under the contributor's essential patent claims",
        ),
        (
            "Is there a grandfather date for deals with a software distributor that would otherwise bar me from passing on the work?",
            "unless you entered into that arrangement, or that patent license was granted, prior to 28 March 2007",
        ),
        (
            "If the project designates an intermediary to decide which future editions apply, what is the effect of that intermediary accepting a new edition?",
            "that proxy's public statement of acceptance of a version permanently authorizes you to choose that version for the Program",
        ),
        (
            cuad(
                "Governing Law",
                "Which jurisdiction's law governs the interpretation of the contract, or how courts are to apply local law.",
            ),
            "reviewing courts shall apply local law that most closely approximates an absolute waiver of all civil liability in connection with the Program",
        ),
    ],
    "GPL-2": [
        (
            "What stance does the preamble take on redistributors obtaining patent licenses for a free program?",
            "any patent must be licensed for everyone's free use or not licensed at all",
        ),
        (
            "Do I need to comply with anything just to execute the software on my computer?",
            "The act of running the Program is not restricted",
        ),
        (
            "Can I charge a fee for distributing copies?",
            "You may charge a fee for the physical act of transferring a copy",
        ),
        (
            cuad(
                "Notice of Modification",
                "Requirements to mark changed files or record when changes were made to the licensed work.",
            ),
            "You must cause the modified files to carry prominent notices stating that you changed the files and the date of any change.",
        ),
        (
            "If I put my proprietary tool on the same disk as a GPL program, does the GPL then apply to my tool?",
            "does not bring the other work under the scope of this License",
        ),
        (
            "If I ship binaries only and promise to hand over the source later, how long must that promise stay good?",
            "Accompany it with a written offer, valid for at least three years",
        ),
        (
            cuad("Termination", "Events or breaches that cause the license or the licensee's rights to end."),
            "Any attempt otherwise to copy, modify, sublicense or distribute the Program is void, and will automatically terminate your rights under this License.",
        ),
        (
            "I never signed anything. How does this license end up binding me?",
            "by modifying or distributing the Program (or any work based on the Program), you indicate your acceptance of this License to do so",
        ),
        (
            cuad("Severability", "What happens to the remaining terms if a court strikes part of the agreement down."),
            "If any portion of this section is held invalid or unenforceable under any particular circumstance, the balance of the section is intended to apply",
        ),
        (
            "Is the FSF ever willing to grant a special permission to reuse its own code in a program with incompatible terms?",
            "write to the Free Software Foundation; we sometimes make exceptions for this",
        ),
        (
            "Who bears the consequences if the software turns out to be buggy or unreliable?",
            "THE ENTIRE RISK AS TO THE QUALITY AND PERFORMANCE OF THE PROGRAM IS WITH YOU",
        ),
        (
            cuad(
                "Limitation of Liability",
                "Provisions excluding or limiting the damages a party can recover, such as consequential or incidental damages.",
            ),
            "BE LIABLE TO YOU FOR DAMAGES, INCLUDING ANY GENERAL, SPECIAL, INCIDENTAL OR CONSEQUENTIAL DAMAGES",
        ),
    ],
    "LGPL-2.1": [
        (
            "Why did the authors pick the name of this license?",
            "because it does Less to protect the user's freedom than the ordinary General Public License",
        ),
        (
            "What's the practical difference between a program built from the library's code and one that just needs the library at runtime?",
            "The former contains code derived from the library, whereas the latter must be combined with the library in order to run.",
        ),
        (
            "What does the license mean by a 'library'?",
            "a collection of software functions and/or data prepared so as to be conveniently linked with application programs",
        ),
        (
            "If my modified version relies on a callback that the calling app is supposed to provide, what happens if the app doesn't provide it?",
            "make a good faith effort to ensure that, in the event an application does not supply such function or table, the facility still operates",
        ),
        (
            cuad("Compatibility", "Whether the licensed work may be redistributed under a different license."),
            "You may opt to apply the terms of the ordinary GNU General Public License instead of this License to a given copy of the Library.",
        ),
        (
            "Is an application that merely calls into the library, shipped on its own, covered by these terms?",
            "Such a work, in isolation, is not a derivative work of the Library, and therefore falls outside the scope of this License.",
        ),
        (
            "How large can the inline code pulled in from the headers be before my object file loses its unrestricted status?",
            "small macros and small inline functions (ten lines or less in length)",
        ),
        (
            "If I ship a closed-source app linked against this library, what must my own end-user terms allow?",
            "provided that the terms permit modification of the work for the customer's own use and reverse engineering for debugging such modifications",
        ),
        (
            cuad("Termination", "Events or breaches that cause the license or the licensee's rights to end."),
            "Any attempt otherwise to copy, modify, sublicense, link with, or distribute the Library is void, and will automatically terminate your rights under this License.",
        ),
        (
            cuad("Severability", "What happens to the remaining terms if a court strikes part of the agreement down."),
            "If any portion of this section is held invalid or unenforceable under any particular circumstance, the balance of the section is intended to apply",
        ),
        (
            "Our library's notice doesn't say which edition of this license applies. Which one can I use?",
            "If the Library does not specify a license version number, you may choose any version ever published by the Free Software Foundation.",
        ),
        (
            "If the library breaks, who pays to get it fixed?",
            "SHOULD THE LIBRARY PROVE DEFECTIVE, YOU ASSUME THE COST OF ALL NECESSARY SERVICING, REPAIR OR CORRECTION.",
        ),
    ],
    "GFDL-1.3": [
        (
            cuad("License Grant", "The scope, territory, cost, and duration of the rights granted to the licensee."),
            "Such a notice grants a world-wide, royalty-free license, unlimited in duration, to use that work under the conditions stated herein.",
        ),
        (
            "In a calculus book, could the preface about the authors include worked equations and still be treated as a side section?",
            "if the Document is in part a textbook of mathematics, a Secondary Section may not explain any mathematics",
        ),
        (
            "Which file formats qualify as an editable, open copy of the manual?",
            "Examples of suitable formats for Transparent copies include plain ASCII without markup, Texinfo input format, LaTeX input format",
        ),
        (
            "Can I put DRM on the e-book version I hand out?",
            "You may not use technical measures to obstruct or control the reading or further copying of the copies you make or distribute.",
        ),
        (
            "If I go with the download-link option for the editable version, how long must that link keep working?",
            "remain thus accessible at the stated location until at least one year after the last time you distribute an Opaque copy",
        ),
        (
            "How many of the original writers need to be credited on the title page of my modified version?",
            "together with at least five of the principal authors of the Document",
        ),
        (
            "Can I drop the URL pointing to an old earlier edition when I revise the manual?",
            "You may omit a network location for a work that was published at least four years before the Document itself",
        ),
        (
            cuad(
                "Publicity / Endorsement", "Restrictions on using a party's name for publicity or to imply endorsement."
            ),
            "The author(s) and publisher(s) of the Document do not by this License give permission to use their names for publicity",
        ),
        (
            "When merging two manuals that each have a fixed, unmodifiable part with the same heading but different text, how do I handle it?",
            "make the title of each such section unique by adding at the end of it, in parentheses, the name of the original author or publisher of that section if known, or else a unique number",
        ),
        (
            "If a French version of this license conflicts with the English one, which wins?",
            "In case of a disagreement between the translation and the original version of this License or a notice or disclaimer, the original version will prevail.",
        ),
        (
            cuad("Termination", "Events or breaches that cause the license or the licensee's rights to end."),
            "You may not copy, modify, sublicense, or distribute the Document except as expressly provided under this License.",
        ),
        (
            cuad("Relicensing", "Whether and until when the licensed work may be re-released under another license."),
            "The operator of an MMC Site may republish an MMC contained in the site under CC-BY-SA on the same site at any time before August 1, 2009",
        ),
    ],
    "MPL-2.0": [
        (
            cuad(
                "Compatibility", "Which other licenses the covered software may be combined with or distributed under."
            ),
            "means either the GNU General Public License, Version 2.0, the GNU Lesser General Public License, Version 2.1, the GNU Affero General Public License, Version 3.0, or any later versions of those licenses.",
        ),
        (
            "Are my corporate affiliates covered together with me?",
            'For legal entities, "You" includes any entity that controls, is controlled by, or is under common control with You.',
        ),
        (
            "From what moment do the rights for a particular contribution kick in?",
            "become effective for each Contribution on the date the Contributor first distributes such Contribution.",
        ),
        (
            cuad(
                "Representations",
                "Statements of fact a party makes, such as ownership of or the right to license the contributed material.",
            ),
            "Each Contributor represents that the Contributor believes its Contributions are its original creation(s) or it has sufficient rights to grant the rights to its Contributions conveyed by this License.",
        ),
        (
            "If I ship binaries and someone asks for the source, how much am I allowed to bill them for it?",
            "at a charge no more than the cost of distribution to the recipient",
        ),
        (
            "Is there any case in which I'm allowed to edit the existing legal headers in the source files?",
            "except that You may alter any license notices to the extent required to remedy known factual inaccuracies.",
        ),
        (
            "If I sell my customers a warranty and they make claims, who has to cover the contributors' exposure?",
            "You hereby agree to indemnify every Contributor for any liability incurred by such Contributor as a result of warranty, support, indemnity or liability terms You offer.",
        ),
        (
            "How long do I get to fix a breach once a contributor points it out, if it's the first time?",
            "You become compliant prior to 30 days after Your receipt of the notice.",
        ),
        (
            cuad("Post-Termination Survival", "Obligations or rights that continue after the agreement is terminated."),
            "all end user license agreements (excluding distributors and resellers) which have been validly granted by You or Your distributors under this License prior to termination shall survive termination.",
        ),
        (
            cuad("Governing Law", "Which jurisdiction's law governs the contract and where disputes must be brought."),
            "Any litigation relating to this License may be brought only in the courts of a jurisdiction where the defendant maintains its principal place of business",
        ),
        (
            "If a clause is ambiguous, can a court read it against the people who wrote the license?",
            "Any law or regulation which provides that the language of a contract shall be construed against the drafter shall not be used to construe this License against a Contributor.",
        ),
        (
            "If I can't put the license header inside a particular file, where else can it go?",
            "You may include the notice in a location (such as a LICENSE file in a relevant directory) where a recipient would be likely to look for such a notice.",
        ),
    ],
    "MPL-1.1": [
        (
            "Does handing the code to another company at no charge count as 'Commercial Use' under this license?",
            "means distribution or otherwise making the Covered Code available to a third party.",
        ),
        (
            "Can I ship the source as a zip or tarball?",
            "The Source Code can be in a compressed or archival form, provided the appropriate decompression or de-archiving software is widely available for no charge.",
        ),
        (
            cuad(
                "License Grant",
                "The rights the licensor grants, including scope, territory, royalties and exclusivity.",
            ),
            "The Initial Developer hereby grants You a world-wide, royalty-free, non-exclusive license, subject to third party intellectual property claims",
        ),
        (
            "If I post my changes for download online, for how long must they stay up?",
            "must remain available for at least twelve (12) months after the date it initially became available",
        ),
        (
            "If I know that someone else holds IP rights my contribution needs, what do I have to ship with the source?",
            'Contributor must include a text file with the Source Code distribution titled "LEGAL" which describes the claim',
        ),
        (
            cuad("Notice Requirements", "Obligations to include specific license notices in the distributed files."),
            "You must duplicate the notice in Exhibit A in each file of the Source Code.",
        ),
        (
            "Can I ship the compiled binaries under my own proprietary EULA?",
            "You may distribute the Executable version of Covered Code or ownership rights under a license of Your choice",
        ),
        (
            cuad(
                "Version Upgrade",
                "Whether the licensee may keep using the current version of the license or move to later versions.",
            ),
            "Once Covered Code has been published under a particular version of the License, You may always continue to use it under the terms of that version.",
        ),
        (
            "How long after realizing I'm out of compliance do I have to fix things before the license ends?",
            "fail to cure such breach within 30 days of becoming aware of the breach.",
        ),
        (
            "Do federal agencies get any extra rights in this code?",
            "all U.S. Government End Users acquire Covered Code with only those rights set forth herein.",
        ),
        (
            cuad("Governing Law", "Which state or country's law governs the interpretation of the contract."),
            "This License shall be governed by California law provisions (except to the extent applicable law, if any, provides otherwise), excluding its conflict-of-law provisions.",
        ),
        (
            "Who pays the lawyers if there's a lawsuit over this and I lose?",
            "with the losing party responsible for costs, including without limitation, court costs and reasonable attorneys' fees and expenses.",
        ),
    ],
    "Apache-2.0": [
        (
            "Under the definitions, who counts as the 'Licensor'?",
            "the copyright owner or entity authorized by the copyright owner that is granting the License.",
        ),
        (
            "What size of stake in a company makes it count as part of the same group under this license?",
            "ownership of fifty percent (50%) or more of the outstanding shares",
        ),
        (
            "If my application only calls the project's API and doesn't copy its code, is my application considered a modified version of it?",
            "Derivative Works shall not include works that remain separable from, or merely link (or bind by name) to the interfaces of, the Work and Derivative Works thereof.",
        ),
        (
            "I posted a patch idea to the project's mailing list but don't want it absorbed into the codebase. How do I keep it out?",
            'excluding communication that is conspicuously marked or otherwise designated in writing by the copyright owner as "Not a Contribution."',
        ),
        (
            cuad("Irrevocable or Perpetual License", "Whether the license grant is irrevocable or perpetual."),
            "each Contributor hereby grants to You a perpetual, worldwide, non-exclusive, no-charge, royalty-free, irrevocable copyright license",
        ),
        (
            cuad(
                "Patent Retaliation / Termination",
                "Circumstances under which patent rights granted under the contract end, for example if the licensee sues.",
            ),
            "then any patent licenses granted to You under this License for that Work shall terminate as of the date such litigation is filed.",
        ),
        (
            "Does the attribution text file that ships with the project change the legal terms in any way?",
            "The contents of the NOTICE file are for informational purposes only and do not modify the License.",
        ),
        (
            "If I send a pull request upstream and say nothing about terms, what terms apply to my code?",
            "any Contribution intentionally submitted for inclusion in the Work by You to the Licensor shall be under the terms and conditions of this License, without any additional terms or conditions.",
        ),
        (
            cuad("Warranty Disclaimer", "Clauses stating that the product is provided without warranties of any kind."),
            'Licensor provides the Work (and each Contributor provides its Contributions) on an "AS IS" BASIS',
        ),
        (
            cuad(
                "Cap on Liability", "Any limit on or exclusion of a party's liability for damages under the agreement."
            ),
            "shall any Contributor be liable to You for damages, including any direct, indirect, special, incidental, or consequential damages",
        ),
        (
            "If I sell customers a support contract with a guarantee, can I bind the original authors to it?",
            "You may act only on Your own behalf and on Your sole responsibility, not on behalf of any other Contributor",
        ),
        (
            "When I paste the boilerplate header into a source file, how should it be formatted?",
            "The text should be enclosed in the appropriate comment syntax for the file format.",
        ),
    ],
    "Artistic": [
        (
            "According to the preamble, what does the author want to retain over where the project goes, even while users get to share and tweak it?",
            "the Copyright Holder maintains some semblance of artistic control over the development of the package",
        ),
        (
            "When working out what I can reasonably bill someone for making them a copy, what kinds of costs can I factor in?",
            "whatever you can justify on the basis of media cost, duplication charges, time of people involved",
        ),
        (
            "If something is described as 'Freely Available', can any money change hands at all?",
            "no fee is charged for the item itself, though there may be fees involved in handling the item.",
        ),
        (
            "If the only changes I make are patches I got from the original author or from public-domain sources, is my build still treated as the official release?",
            "A Package modified in such a way shall still be considered the Standard Version.",
        ),
        (
            "I've altered some of the sources. What labeling obligation comes with that?",
            "insert a prominent notice in each changed file stating how and when you changed that file",
        ),
        (
            "Can I skip publishing my changes if the altered software is only ever used inside my own company?",
            "use the modified Package only within your corporation or organization.",
        ),
        (
            "If I ship only compiled binaries, can I satisfy the license by bundling the code for my changes alongside them?",
            "accompany the distribution with the machine-readable source of the Package with your modifications.",
        ),
        (
            cuad(
                "Price Restrictions",
                "Any restriction on the price a party may charge for the licensed product or for related services.",
            ),
            "You may not charge a fee for this Package itself.",
        ),
        (
            cuad(
                "IP Ownership",
                "Provisions stating who owns materials created by or produced with the licensed product, such as inputs and outputs.",
            ),
            "do not automatically fall under the copyright of this Package, but belong to whoever generated them",
        ),
        (
            "I've written some compiled helper routines in another language and hooked them in to mimic built-in functions. Are they treated as the covered software?",
            "shall not be considered part of this Package, but are the equivalent of input as in Paragraph 6",
        ),
        (
            cuad("Publicity / Use of Name", "Restrictions on using a party's name to endorse or promote products."),
            "The name of the Copyright Holder may not be used to endorse or promote products derived from this software without specific prior written permission.",
        ),
        (
            cuad(
                "Warranty Disclaimer",
                "Clauses disclaiming express or implied warranties, such as merchantability or fitness for a particular purpose.",
            ),
            'THIS PACKAGE IS PROVIDED "AS IS" AND WITHOUT ANY EXPRESS OR IMPLIED WARRANTIES',
        ),
    ],
}


def build(folder: Path = LICENCES) -> list[dict[str, object]]:
    """One L-Eval row per licence; `SystemExit` naming the question whose gold is not found exactly once."""
    rows: list[dict[str, object]] = []
    for name, questions in DATA.items():
        text = (folder / name).read_text(encoding="utf-8")
        golds = []
        for number, (_, gold) in enumerate(questions, 1):
            pattern = re.compile(r"\s+".join(re.escape(word) for word in gold.split()))
            found = [m.group() for m in pattern.finditer(text)]
            if len(found) != 1:
                raise SystemExit(f"{name} question {number}: the gold occurs {len(found)} times: {gold!r}")
            golds.append(found[0])
        rows.append(
            {
                "input": text,
                "instructions": [q for q, _ in questions],
                "outputs": golds,
                "source": "licences",
                "evaluation": "f1",  # free-text answers, as in the L-Eval contracts
            }
        )
    return rows


def main(argv: list[str]) -> int:
    if (code := not_run(argv, "python datasets/licences/build.py OUT.jsonl", __doc__)) is not None:
        return code
    missing = [name for name in DATA if not (LICENCES / name).is_file()]
    if missing:
        print(f"{LICENCES}: no {', '.join(missing)} (Debian and Ubuntu install them)", file=sys.stderr)
        return 2
    rows = build()
    Path(argv[0]).write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"wrote {argv[0]}: {len(rows)} licences, {sum(len(DATA[name]) for name in DATA)} questions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
