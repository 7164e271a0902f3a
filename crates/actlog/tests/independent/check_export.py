"""An auditor's check of an export against its proof bundle, written from the published
formats only (docs/tamper-evidence.md "Proof bundles of exports"; C2SP signed-note and
tlog-checkpoint; RFC 9162 inclusion proofs), with Python's hashlib, json and the Ed25519 of the
`cryptography` library: nothing of actlog's code.

Usage: check_export.py VERIFIER_KEY EXPORTED_FILE BUNDLE_JSON
Prints "verified N" (the number of records) and exits 0, or raises.
"""
import base64, hashlib, json, struct, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

vkey, exported_file, bundle_file = sys.argv[1:4]
name, key_hex, key_b64 = vkey.split("+", 2)
key = base64.b64decode(key_b64)
assert key[0] == 0x01 and len(key) == 33
key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
assert key_id.hex() == key_hex

def opened(note):
    """The text of a signed note, once its signature by the verifier key checks."""
    split = note.rindex("\n\n")
    text, signatures = note[: split + 1], note[split + 2 :]
    for line in signatures.strip("\n").split("\n"):
        dash, signer, blob = line.split(" ")
        blob = base64.b64decode(blob)
        if dash == "\u2014" and signer == name and blob[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(blob[4:], text.encode())
            return text
    raise AssertionError("not signed by the verifier key")

bundle = json.load(open(bundle_file, encoding="utf-8"))
assert bundle["format"] == "actlog-export-proof-v1"
origin, size, root_b64 = opened(bundle["checkpoint"]).rstrip("\n").split("\n")
size, root = int(size), base64.b64decode(root_b64)
manifest = json.loads(opened(bundle["manifest"]))
assert manifest["format"] == "actlog-export-manifest-v1"
assert (manifest["log"], manifest["treeSize"], manifest["rootHash"]) == (origin, size, root_b64)

content = open(exported_file, "rb").read()
assert len(content) == manifest["bytes"], "the file's size is the manifest's"
assert hashlib.sha256(content).hexdigest() == manifest["sha256"], "the file is the manifest's"

def in_tree(leaf, index, proof):
    """RFC 9162 §2.1.3.2."""
    fn, sn, h = index, size - 1, leaf
    for p in proof:
        assert sn != 0
        if fn & 1 == 1 or fn == sn:
            h = hashlib.sha256(b"\x01" + p + h).digest()
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            h = hashlib.sha256(b"\x01" + h + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and h == root

leaves = hashlib.sha256()
partner = manifest["partner"].encode()
for entry in bundle["records"]:
    record = base64.b64decode(entry["record"])
    # Canonical v1: the version tag, then the partner, each 8-byte-length-prefixed.
    assert record[:24] == struct.pack(">Q", 16) + b"actlog-record-v1"
    assert record[24:32 + len(partner)] == struct.pack(">Q", len(partner)) + partner
    leaf = hashlib.sha256(b"\x00" + record).digest()
    leaves.update(leaf)
    proof = [base64.b64decode(p) for p in entry["proof"]]
    assert in_tree(leaf, entry["index"], proof), f"record at {entry['index']} is in the log"
assert leaves.hexdigest() == manifest["leavesSha256"], "the records are the manifest's"
assert len(bundle["records"]) == manifest["rows"]
print("verified", manifest["rows"])
