//! Names: customer companies (realistic and hostile), their domains, people, partner staff.
//!
//! Hostile names are real-world shapes that break naive software — quotes and separators that
//! break CSV, leading `=`/`+`/`-`/`@` that spreadsheets run as formulas, markup, SQL, control
//! characters, emoji, CJK, right-to-left text, a 300-character name. They are interleaved with
//! ordinary names from the start of the list, so even a small demo contains them.

use std::collections::BTreeSet;

use crate::rng::Rng;

/// The names that must survive every path (page, CSV, XLSX, SQL, filters). Index 0 is the
/// demo's flagship customer.
pub(crate) fn hostile() -> Vec<String> {
    let mut names: Vec<String> = [
        "Società Caffè \"Il Moro\", S.r.l.",
        "Müller & Söhne GmbH",
        "O'Brien; Partners",
        "株式会社テスト",
        "Ünïcödé Café 🚀 Ltd",
        "=HYPERLINK(\"http://x\")",
        "+39 Pizza",
        "-Minus Corp",
        "@Handle Inc",
        "Tab\tSeparated S.r.l.",
        "Line One\nLine Two S.p.A.",
        "<img src=x onerror=alert(1)>",
        "Robert'); DROP TABLE records;--",
        "Smith, Jones & Co.",
        "Alfa; Beta; Gamma S.n.c.",
        "\"Quoted\" Holdings Ltd",
        "It's \"Complicated\", Inc.",
        "Ωmega Ελληνικά Α.Ε.",
        "שלום Technologies בע\"מ",
        "${jndi:ldap://x.example/a} Logistics",
        "Zero\u{200B}Width Ltd",
        "  Spazi Iniziali e Finali S.r.l.  ",
        "NULL",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    names.insert(17, long_name());
    names
}

/// A legal name of about 300 characters, as some consortia really have.
fn long_name() -> String {
    "Consorzio Intercomunale per la Gestione Integrata dei Servizi Informatici, Telematici e \
     di Comunicazione delle Amministrazioni Pubbliche, delle Imprese Artigiane, Commerciali e \
     Agricole della Provincia, con Sede Legale in Via della Repubblica numero centoventitré, \
     Scala B, Interno 7 – Società Consortile a Responsabilità Limitata"
        .to_owned()
}

#[rustfmt::skip]
const IT_SURNAMES: &[&str] = &[
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino",
    "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo",
    "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso",
    "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile", "Vitale", "Serra", "Coppola",
    "De Santis", "D'Angelo", "Marchetti", "Parisi", "Villa", "Ferraro", "Fabbri", "Marini",
    "Grasso", "Valentini", "Messina", "Sala", "Gatti", "Pellegrini", "Palumbo", "Sanna", "Farina",
    "Monti", "Cattaneo", "Morelli", "Amato", "Silvestri", "Mazza", "Testa", "Barone", "Caputo",
    "Montanari", "Guerra", "Bernardi", "Fiore", "Bellini", "Basile", "Riva", "Neri",
];
#[rustfmt::skip]
const IT_SECTORS: &[&str] = &[
    "Costruzioni", "Impianti Elettrici", "Trasporti", "Logistica", "Serramenti", "Arredamenti",
    "Tessile", "Meccanica", "Alimentari", "Ceramiche", "Informatica", "Consulenza", "Edilizia",
    "Autoricambi", "Vini", "Caseificio", "Immobiliare", "Termoidraulica", "Pelletteria",
    "Tipografia", "Packaging", "Automazione", "Ottica", "Macchine Agricole",
];
#[rustfmt::skip]
const IT_FORMS: &[&str] = &[
    "S.r.l.", "S.p.A.", "S.n.c.", "S.a.s.", "S.r.l.s.", "Soc. Coop.",
];
#[rustfmt::skip]
const IT_SHOPS: &[&str] = &[
    "Farmacia", "Ferramenta", "Pasticceria", "Studio Dentistico", "Studio Legale",
    "Agenzia Viaggi", "Panificio", "Autofficina", "Hotel", "Cantina",
];
#[rustfmt::skip]
const CITIES: &[&str] = &[
    "Milano", "Torino", "Bologna", "Verona", "Brescia", "Bergamo", "Padova", "Firenze", "Napoli",
    "Bari", "Palermo", "Genova", "Parma", "Modena", "Trento", "Udine", "Lecce", "Ancona",
];
#[rustfmt::skip]
const EN_SURNAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Miller", "Davis", "Wilson", "Taylor", "Clark",
    "Hall", "Young", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Carter", "Mitchell",
    "Turner", "Campbell", "Parker", "Evans", "Collins", "Morris", "Murphy", "Cooper", "Reed",
    "Bailey", "Kelly", "Howard", "Ward", "Watson", "Brooks", "Bennett", "Hughes", "Foster",
];
#[rustfmt::skip]
const EN_SECTORS: &[&str] = &[
    "Logistics", "Engineering", "Consulting", "Analytics", "Manufacturing", "Dental Care",
    "Law Group", "Accounting", "Labs", "Design Studio", "Outdoor Supplies", "Health Partners",
    "Capital", "Freight", "Roofing", "Veterinary Clinic",
];
const EN_FORMS: &[&str] = &["Ltd", "LLC", "Inc.", "PLC", "Group", "& Co."];
#[rustfmt::skip]
const BRAND_HEADS: &[&str] = &[
    "Blue", "Green", "Silver", "North", "South", "Bright", "Clear", "Swift", "Iron", "Golden",
    "Pixel", "Nova", "Alpha", "Terra", "Vertex", "Red", "Oak", "Stone",
];
#[rustfmt::skip]
const BRAND_TAILS: &[&str] = &[
    "wave", "field", "line", "bridge", "point", "gate", "path", "works", "forge", "leaf", "peak",
    "spring", "hub", "sphere",
];
#[rustfmt::skip]
const BRAND_KINDS: &[&str] = &[
    "Analytics", "Media", "Systems", "Organics", "Energy", "Studio",
];
/// Microsoft's own fictitious companies, as Partner Center's documentation uses them.
#[rustfmt::skip]
const CLASSICS: &[&str] = &[
    "Contoso Pharmaceuticals", "Fabrikam Residences", "Northwind Traders", "Relecloud",
    "Tailspin Toys", "Wide World Importers", "Adventure Works Cycles", "Litware, Inc.",
    "Proseware, Inc.", "Woodgrove Bank", "Alpine Ski House", "Coho Winery", "Lucerne Publishing",
    "Margie's Travel", "Trey Research", "Fourth Coffee", "Wingtip Toys", "Humongous Insurance",
    "Blue Yonder Airlines", "Graphic Design Institute", "Southridge Video", "VanArsdel, Ltd.",
    "Tailwind Traders", "Lamna Healthcare Company", "Consolidated Messenger",
    "City Power & Light", "First Up Consultants", "A. Datum Corporation",
    "Munson's Pickles and Preserves Farm", "Best For You Organics Company",
];

/// Names in other languages and scripts: `(pattern, parts)`, `{}` replaced by a part.
#[rustfmt::skip]
const INTERNATIONAL: &[(&str, &[&str])] = &[
    ("{} Maschinenbau GmbH", &["Schmidt", "Schäfer", "Köhler", "Krüger", "Weiß", "Groß"]),
    ("{} Logistik GmbH & Co. KG", &["Becker", "Hoffmann", "Schröder", "Müller", "Jäger"]),
    ("Boulangerie {} SARL", &["Dubois", "Lefèvre", "Moreau", "Rousseau", "Faure", "Girard"]),
    ("{} Conseil SAS", &["Garnier", "Mercier", "Bonnet", "Laurent", "Fournier"]),
    ("Construcciones {} S.L.", &["García", "Martínez", "Rodríguez", "Sánchez", "Pérez"]),
    ("{} Budownictwo Sp. z o.o.", &["Kowalski", "Wiśniewski", "Wójcik", "Zieliński", "Łukasik"]),
    ("{} Installatietechniek B.V.", &["De Vries", "Jansen", "Van den Berg", "Bakker", "Visser"]),
    ("{} Bygg AB", &["Andersson", "Johansson", "Lindqvist", "Åkesson", "Bergström"]),
    ("{} Eiendom AS", &["Øvergård", "Hansen", "Sæther", "Bråten"]),
    ("{} Yazılım A.Ş.", &["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk"]),
    ("株式会社{}", &["山田商事", "佐藤工業", "鈴木製作所", "高橋物産", "田中電機"]),
    ("{}有限公司", &["上海星辰科技", "深圳长城贸易", "杭州东方物流", "成都天元软件"]),
    ("{} Α.Ε.", &["Παπαδόπουλος", "Γεωργίου", "Νικολάου"]),
    ("شركة {} للتجارة", &["الأمل", "النور", "الفجر"]),
    ("{} s.r.o.", &["Novák", "Dvořák", "Černý", "Procházka"]),
];

/// `count` distinct company names: hostile ones at every third position from 0, then the rest.
pub(crate) fn companies(rng: &mut Rng, count: usize) -> Vec<String> {
    let mut hostile = hostile().into_iter();
    let mut seen = BTreeSet::new();
    let mut names = Vec::with_capacity(count);
    for i in 0..count {
        let name = match (i % 3 == 0).then(|| hostile.next()).flatten() {
            Some(name) => name,
            None => fresh(rng, &seen, i),
        };
        seen.insert(name.clone());
        names.push(name);
    }
    names
}

fn fresh(rng: &mut Rng, seen: &BTreeSet<String>, index: usize) -> String {
    for _ in 0..20 {
        let name = ordinary(rng);
        if !seen.contains(&name) {
            return name;
        }
    }
    // Past a few thousand customers the patterns repeat; a branch number keeps names unique.
    format!("{} – Filiale {}", ordinary(rng), index)
}

/// An ordinary company name (not necessarily unique).
pub(crate) fn ordinary(rng: &mut Rng) -> String {
    let r = |rng: &mut Rng, list: &[&str]| rng.pick(list).to_owned();
    match rng.weighted(&[30, 8, 8, 10, 8, 14, 10, 6, 16]) {
        0 => format!(
            "{} {} {}",
            r(rng, IT_SURNAMES),
            r(rng, IT_SECTORS),
            r(rng, IT_FORMS)
        ),
        1 => format!(
            "{} {} & Figli {}",
            r(rng, IT_SECTORS),
            r(rng, IT_SURNAMES),
            r(rng, IT_FORMS)
        ),
        2 => format!(
            "{} {} {}",
            r(rng, IT_SECTORS),
            r(rng, CITIES),
            r(rng, IT_FORMS)
        ),
        3 => format!("{} {}", r(rng, IT_SHOPS), r(rng, IT_SURNAMES)),
        4 => format!(
            "Studio Associato {} & {}",
            r(rng, IT_SURNAMES),
            r(rng, IT_SURNAMES)
        ),
        5 => format!(
            "{} {} {}",
            r(rng, EN_SURNAMES),
            r(rng, EN_SECTORS),
            r(rng, EN_FORMS)
        ),
        6 => {
            let (head, tail) = (r(rng, BRAND_HEADS), r(rng, BRAND_TAILS));
            format!("{head}{tail} {}", r(rng, BRAND_KINDS))
        }
        7 => r(rng, CLASSICS),
        _ => {
            let (pattern, parts) = rng.pick(INTERNATIONAL);
            let part: &str = rng.pick(parts);
            pattern.replace("{}", part)
        }
    }
}

/// A tenant domain for a company: `moroscaffe.onmicrosoft.com`-like, unique by index.
pub(crate) fn domain(name: &str, index: usize) -> String {
    let slug: String = ascii_fold(name)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect::<String>()
        .to_ascii_lowercase();
    if slug.len() < 4 {
        format!("tenant{index:04}.onmicrosoft.com")
    } else {
        format!("{slug}{index}.onmicrosoft.com")
    }
}

/// Latin letters with diacritics to their ASCII base, for UPNs and domains.
pub(crate) fn ascii_fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ı' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' | 'č' => 'c',
            'ñ' => 'n',
            'ş' | 'ś' => 's',
            'ł' => 'l',
            'Ö' | 'Ø' => 'O',
            'Ü' => 'U',
            'Å' | 'Ä' => 'A',
            other => other,
        })
        .collect()
}

#[rustfmt::skip]
const FIRST_NAMES: &[&str] = &[
    "Giulia", "Marco", "Francesca", "Luca", "Sara", "Alessandro", "Chiara", "Matteo", "Elena",
    "Davide", "Martina", "Andrea", "Valentina", "Paolo", "Federica", "Stefano", "Anna", "Emma",
    "James", "Olivia", "Liam", "Sophie", "Noah", "Grace", "Jürgen", "Zoë", "Søren", "Chloé",
    "Mateo", "Aiko", "Wei", "Fatima", "Niamh", "José", "Ana", "Lukas", "Ingrid", "Kenji",
];
#[rustfmt::skip]
const LAST_NAMES: &[&str] = &[
    "Rossi", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Conti", "Costa",
    "Giordano", "Lombardi", "Moretti", "Fontana", "Caruso", "Gallo", "Smith", "Johnson", "Brown",
    "O'Connor", "Müller", "Schmidt", "García", "Dubois", "Tanaka", "Chen", "Nowak", "Larsen",
    "D'Amico", "Van Dijk", "Novák",
];

/// A person: `(first, last)`.
pub(crate) fn person(rng: &mut Rng) -> (&'static str, &'static str) {
    (rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES))
}

/// `first.last` in ASCII lowercase, as mailbox names are made.
pub(crate) fn mailbox(first: &str, last: &str) -> String {
    let clean = |s: &str| -> String {
        ascii_fold(s)
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    format!("{}.{}", clean(first), clean(last))
}

/// The partner's staff who act in the log, most active first; the last one is the billing
/// integration's service identity (an app acting on its own).
pub(crate) const PARTNER_USERS: &[&str] = &[
    "giulia.rossi@contoso-partner.example",
    "marco.bianchi@contoso-partner.example",
    "francesca.romano@contoso-partner.example",
    "luca.ferrari@contoso-partner.example",
    "sara.esposito@contoso-partner.example",
    "alessandro.colombo@contoso-partner.example",
    "emma.johnson@contoso-partner.example",
    "chiara.ricci@contoso-partner.example",
    "james.oconnor@contoso-partner.example",
    "matteo.greco@contoso-partner.example",
    "Davide.Conti@contoso-partner.example",
    "sofia.marino@contoso-partner.example",
    "svc-billing-sync@contoso-partner.example",
];

/// Relative activity of each partner user (same order as [`PARTNER_USERS`], app excluded).
pub(crate) const STAFF_WEIGHTS: &[u32] = &[30, 22, 16, 12, 10, 8, 6, 5, 4, 3, 2, 1];

/// Index of the service identity in [`PARTNER_USERS`].
pub(crate) const APP_IDENTITY: usize = PARTNER_USERS.len() - 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_are_unique_and_start_with_the_flagship() {
        let names = companies(&mut Rng::new(3), 2_000);
        let distinct: BTreeSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
        assert_eq!(names[0], "Società Caffè \"Il Moro\", S.r.l.");
        assert_eq!(names[3], "Müller & Söhne GmbH");
    }

    #[test]
    fn the_long_name_is_about_300_characters() {
        let n = long_name().chars().count();
        assert!((280..=340).contains(&n), "{n}");
    }

    #[test]
    fn domains_and_mailboxes_are_plain_ascii() {
        assert_eq!(domain("株式会社テスト", 9), "tenant0009.onmicrosoft.com");
        assert_eq!(
            domain("Società Caffè \"Il Moro\", S.r.l.", 0),
            "societacaffeilmorosr0.onmicrosoft.com"
        );
        assert_eq!(mailbox("Zoë", "O'Connor"), "zoe.oconnor");
        assert_eq!(PARTNER_USERS.len(), STAFF_WEIGHTS.len() + 1);
    }
}
