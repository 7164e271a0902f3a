"""An auditor's check of actlog's formats, written from the published specifications only
(RFC 6962/9162 hashing and inclusion verification, C2SP signed-note and tlog-checkpoint,
docs/tamper-evidence.md's record encoding), with Python's hashlib and the Ed25519 of the
`cryptography` library: nothing of actlog's code.

Usage: check_proof.py VERIFIER_KEY CHECKPOINT_FILE RECORD_JSON PROOF_JSON PARTNER
Prints "verified" and exits 0, or raises.
"""
import base64, hashlib, json, struct, sys
from datetime import datetime, timezone
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

vkey, checkpoint_file, record_file, proof_file, partner = sys.argv[1:6]

# Verifier key: <name>+<hex key id>+<base64(0x01 || public key)>.
name, key_hex, key_b64 = vkey.split("+", 2)  # base64 may hold "+"
key = base64.b64decode(key_b64)
assert key[0] == 0x01 and len(key) == 33, "an Ed25519 verifier key"
key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
assert key_id.hex() == key_hex, "the key id is SHA-256(name || 0x0A || 0x01 || key)[:4]"

# Signed note: text, a blank line, signature lines "— name base64(key id || signature)".
note = open(checkpoint_file, encoding="utf-8").read()
split = note.rindex("\n\n")
text, signatures = note[: split + 1], note[split + 2 :]
verified = False
for line in signatures.strip("\n").split("\n"):
    dash, signer, blob = line.split(" ")
    assert dash == "\u2014"
    blob = base64.b64decode(blob)
    if signer == name and blob[:4] == key_id:
        Ed25519PublicKey.from_public_bytes(key[1:]).verify(blob[4:], text.encode())
        verified = True
assert verified, "signed by the verifier key"

# Checkpoint: origin, size, root.
origin, size, root_b64 = text.rstrip("\n").split("\n")
size, root = int(size), base64.b64decode(root_b64)

# The record's canonical encoding v1 (docs/tamper-evidence.md).
def enc_text(s):
    b = s.encode("utf-8")
    return struct.pack(">Q", len(b)) + b

def optional(s):
    return b"\x00" if s is None else b"\x01" + enc_text(s)

def ticks(date):
    main, _, rest = date.rstrip("Z").partition(".")
    seconds = datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(seconds.timestamp()) * 10_000_000 + int((rest + "0000000")[:7])

r = json.load(open(record_file))
data = enc_text("actlog-record-v1") + enc_text(partner) + enc_text(r["id"])
for f in ["customerId", "customerName", "userPrincipalName", "applicationId",
          "resourceType", "resourceOldValue", "resourceNewValue"]:
    data += optional(r.get(f))
data += enc_text(r["operationType"]) + struct.pack(">q", ticks(r["operationDate"]))
data += optional(r.get("operationStatus"))
cd = r.get("customizedData")
if cd is None:
    data += b"\x00"
else:
    data += b"\x01" + struct.pack(">Q", len(cd))
    for entry in cd:
        data += enc_text(entry["key"]) + optional(entry.get("value"))
data += optional(r.get("sessionId")) + optional(r.get("originalCorrelationId"))
data += enc_text(r.get("attributes", {}).get("objectType", "AuditRecord")) + optional(None)
leaf = hashlib.sha256(b"\x00" + data).digest()

# RFC 9162 §2.1.3.2: verifying an inclusion proof.
proof = json.load(open(proof_file))
assert proof["treeSize"] == size
assert base64.b64decode(proof["leafHash"]) == leaf, "the leaf is the record's encoding"
index = proof["logIndex"]
fn, sn, h = index, size - 1, leaf
for p in (base64.b64decode(x) for x in proof["inclusionProof"]):
    assert sn != 0
    if fn & 1 == 1 or fn == sn:
        h = hashlib.sha256(b"\x01" + p + h).digest()
        if fn & 1 == 0:
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
    else:
        h = hashlib.sha256(b"\x01" + h + p).digest()
    fn >>= 1
    sn >>= 1
assert sn == 0 and h == root, "the proof leads to the signed root"
print("verified")
