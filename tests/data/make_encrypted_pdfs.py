"""Write the encrypted PDFs the tests read: `python tests/data/make_encrypted_pdfs.py` (needs `cryptography`).

Each is one page holding one line of text, made with pypdf (its `PdfWriter.encrypt`):

- `aes128-empty-password.pdf`: AES-128, empty user password (pypdf opens it, then needs
  `cryptography` to decrypt the page's text);
- `aes256-empty-password.pdf`: AES-256, empty user password (pypdf needs `cryptography` for
  the password check itself);
- `rc4-password.pdf`: RC4-128 with the user password "secret" (nothing opens it without it).

The files are committed, so the tests need neither `cryptography` nor this script.
"""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

HERE = Path(__file__).resolve().parent
TEXT = "The keeper lit the lamp at dusk."


def write(name: str, algorithm: str, user_password: str = "") -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=100)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 12 Tf 20 50 Td ({TEXT}) Tj ET".encode("ascii"))
    page[NameObject("/Contents")] = writer._add_object(content)
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm=algorithm)
    with (HERE / name).open("wb") as handle:
        writer.write(handle)


if __name__ == "__main__":
    write("aes128-empty-password.pdf", "AES-128")
    write("aes256-empty-password.pdf", "AES-256")
    write("rc4-password.pdf", "RC4-128", user_password="secret")
