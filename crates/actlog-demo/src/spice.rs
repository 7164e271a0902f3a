//! Hostile detail values: what partners really paste into notes and references, and what
//! breaks exports — separators, quotes, line breaks, leading formula characters, emoji, CJK,
//! right-to-left text, and one value longer than a spreadsheet cell can hold.

use actlog_domain::KeyValue;

use crate::json::kv;
use crate::rng::Rng;

/// Keys under which partners attach free text to an action.
const NOTE_KEYS: &[&str] = &[
    "PartnerNote",
    "PurchaseOrderReference",
    "InternalReference",
    "Comment",
];

/// Free-text values, ordinary and hostile.
const NOTES: &[&str] = &[
    "Rinnovo annuale concordato con il cliente",
    "Richiesta via ticket #45213",
    "PO-2025-00417",
    "Approvato da M. Bianchi, vedi mail del 12/03",
    "=SUM(A1:A9)",
    "=HYPERLINK(\"http://x.example\",\"apri\")",
    "+39 02 1234 5678",
    "-15% sconto fedeltà",
    "@channel verificare prima della fatturazione",
    "\tindentato con tabulazione",
    "Riga 1\nRiga 2\r\nRiga 3",
    "Ordine \"urgente\", consegna lunedì; fattura a parte",
    "Campo1,Campo2;Campo3\t\"Campo4\"",
    "Kaffee ☕ für das Büro 🚀",
    "株式会社テストの注文です（至急）",
    "新规订单：上海办公室",
    "ملاحظة: العميل يطلب فاتورة",
    "👩‍💻 team onboarding 🇮🇹",
    "<script>alert('x')</script>",
    "'; DELETE FROM records; --",
    "C:\\Users\\Public\\ordine.xlsx",
    "  spazi ai lati  ",
];

/// A note for some records (about 1.2%), from [`NOTES`] or, rarely, a few thousand characters.
pub(crate) fn maybe_note(rng: &mut Rng) -> Option<KeyValue> {
    if !rng.per_mille(12) {
        return None;
    }
    let key = rng.pick(NOTE_KEYS);
    let value = if rng.per_mille(40) {
        paragraph(rng.range(2_000, 6_000) as usize)
    } else {
        (rng.pick(NOTES)).to_owned()
    };
    Some(kv(key, value))
}

/// About 40,000 characters over many lines: more than Excel's 32,767-character cell limit.
pub(crate) fn long_note() -> KeyValue {
    kv("SupportTranscript", paragraph(40_000))
}

/// Text of about `chars` characters, lines of a support conversation with every hazard in it.
fn paragraph(chars: usize) -> String {
    const LINES: &[&str] = &[
        "Cliente: buongiorno, vorremmo aggiungere 5 licenze \"Business Premium\", grazie.",
        "Partner: certo; procediamo oggi, con fatturazione mensile.",
        "=Cliente: il totale è 1.234,56 € (IVA esclusa)",
        "+ nota: verificare il dominio @contoso.example",
        "- il referente è cambiato, vedi allegato\tcolonna B",
        "顧客: ありがとうございます 🙏",
        "Partner: chiuso ✅, riferimento \"TCK-8812\"",
    ];
    let mut text = String::with_capacity(chars * 2);
    let (mut count, mut i) = (0, 0);
    while count < chars {
        let line = LINES[i % LINES.len()];
        let end = if i % 5 == 4 { "\r\n" } else { "\n" };
        text.push_str(line);
        text.push_str(end);
        count += line.chars().count() + end.len();
        i += 1;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_note_exceeds_an_excel_cell() {
        let note = long_note();
        let n = note.value.unwrap().chars().count();
        assert!((40_000..41_000).contains(&n), "{n}");
    }
}
