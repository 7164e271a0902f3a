//! The product catalog a Microsoft CSP sells: names, offer ids, SKUs, how they are bought.
//!
//! Offer ids are fictional but fixed (uppercase GUIDs, as in Partner Center's sample), so the
//! same product has the same offer id in every demo; SKU ids are derived from the name.

use crate::rng::{Rng, guid_for};

/// How a product is bought and how it evolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Per-user licenses, bought by the seat.
    Seats,
    /// A free trial (quantity 25, no billing cycle) that converts to the named product.
    Trial { paid: &'static str },
    /// An add-on that needs a base subscription of one of the named products.
    AddOn { bases: &'static [&'static str] },
    /// Consumption: exactly one per customer, quantity 1.
    Azure,
}

/// One product of the catalog.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Product {
    pub name: &'static str,
    pub offer_id: &'static str,
    pub kind: Kind,
    /// The product a subscription upgrades to, if any.
    pub upgrade: Option<&'static str>,
    /// How often it is ordered, relative to the others.
    pub popularity: u32,
}

const M365_BASES: &[&str] = &["Microsoft 365 E3", "Microsoft 365 E5", "Office 365 E3"];
const ANY_SUITE: &[&str] = &[
    "Microsoft 365 Business Basic",
    "Microsoft 365 Business Standard",
    "Microsoft 365 Business Premium",
    "Office 365 E3",
    "Microsoft 365 E3",
];

macro_rules! product {
    ($name:literal, $offer:literal, $kind:expr, $upgrade:expr, $pop:literal) => {
        Product {
            name: $name,
            offer_id: $offer,
            kind: $kind,
            upgrade: $upgrade,
            popularity: $pop,
        }
    };
}

use Kind::{AddOn, Azure, Seats, Trial};

#[rustfmt::skip]
pub(crate) const PRODUCTS: &[Product] = &[
    product!("Microsoft 365 Business Basic", "5A2F1518-F93C-4F8F-A8B1-FC806D99FE30", Seats, Some("Microsoft 365 Business Standard"), 90),
    product!("Microsoft 365 Business Standard", "AEA6EE82-8423-46BC-B943-1D1EE5D35DEE", Seats, Some("Microsoft 365 Business Premium"), 120),
    product!("Microsoft 365 Business Premium", "93E645C8-574E-40E1-98A4-991CEDEF32D6", Seats, None, 110),
    product!("Office 365 E1", "75440F60-4544-42E4-BD59-70F3112668DE", Seats, Some("Office 365 E3"), 30),
    product!("Office 365 E3", "66AE0A62-0715-4F99-BE52-E755FCEFD227", Seats, Some("Office 365 E5"), 60),
    product!("Office 365 E5", "FE5C3D61-D27E-4588-99DD-5A6446B582D7", Seats, None, 15),
    product!("Microsoft 365 E3", "6313D9B9-C843-4DB6-B61E-2AD3C88F1D39", Seats, Some("Microsoft 365 E5"), 45),
    product!("Microsoft 365 E5", "2B6EE3DB-72E7-40B6-A237-EAC02EAC14CD", Seats, None, 15),
    product!("Exchange Online (Plan 1)", "4E3D5125-435F-4739-8F1B-DFD845939A81", Seats, Some("Exchange Online (Plan 2)"), 80),
    product!("Exchange Online (Plan 2)", "63668000-13F2-46FC-88A5-079AAE640F5B", Seats, None, 20),
    product!("Microsoft Teams Essentials", "4A4ECCDE-CAF2-4FB7-A1DD-777DD9174E79", Seats, None, 40),
    product!("Microsoft Teams Phone Standard", "0F338280-814E-463B-96FA-2B81410B140C", AddOn { bases: M365_BASES }, None, 20),
    product!("Microsoft Teams Audio Conferencing", "295163DF-7CC8-405A-B678-74F45A5B4D6B", AddOn { bases: M365_BASES }, None, 12),
    product!("Microsoft 365 Copilot", "06535DA6-D3E5-4373-B162-F4FA8BD0E83A", AddOn { bases: ANY_SUITE }, None, 25),
    product!("Azure plan", "116074FD-B183-47F3-AFF4-388AF38B6975", Azure, None, 35),
    product!("Dynamics 365 Business Central Essentials", "10FA3140-FA5E-48E1-98F0-7614D58D993B", Seats, Some("Dynamics 365 Business Central Premium"), 25),
    product!("Dynamics 365 Business Central Premium", "F2526B90-118A-4ABC-9EFF-5658370E04CE", Seats, None, 8),
    product!("Dynamics 365 Sales Professional", "E6AB0718-4CAB-4819-BFF9-89808B42BC0F", Seats, None, 10),
    product!("Power BI Pro", "2259670D-4BC0-4122-9F3F-297560CCD657", Seats, Some("Power BI Premium Per User"), 70),
    product!("Power BI Premium Per User", "1196910C-833D-4D26-8404-BE95AF0A0CAF", Seats, None, 12),
    product!("Visio Plan 2", "B3AF621A-81DF-4ADB-8FE3-35CE3E2A3F2B", Seats, None, 25),
    product!("Project Plan 3", "A3B83EB6-2A8F-4359-97BC-3B55B194B6EE", Seats, None, 18),
    product!("Microsoft Defender for Business", "0F9C738B-8DD3-4DED-8109-DF70DF6A6DBF", Seats, None, 40),
    product!("Microsoft Intune Plan 1", "AF9A32FA-976C-49DC-92BA-B0C6480617D7", Seats, None, 25),
    product!("Microsoft 365 Apps for business", "66ECC4F8-A8D4-449D-A4DA-C74B427516B5", Seats, None, 35),
    product!("Microsoft 365 Business Premium Trial", "B3760658-8223-4A0A-B757-AB060E2CC125", Trial { paid: "Microsoft 365 Business Premium" }, None, 30),
    product!("Office 365 E3 Trial", "7315650D-F66F-46B9-90BD-6CC46A0F237B", Trial { paid: "Office 365 E3" }, None, 15),
    product!("Dynamics 365 Business Central Essentials Trial", "3A48C5A0-E5A4-4F08-ACC0-F15F7BB74638", Trial { paid: "Dynamics 365 Business Central Essentials" }, None, 10),
    product!("Power BI Pro Trial", "7BA157C3-4811-4DC8-AA95-BBA261C255D3", Trial { paid: "Power BI Pro" }, None, 10),
];

/// Software a customer downloads or gets keys for (perpetual licenses).
pub(crate) const SOFTWARE: &[&str] = &[
    "Windows Server 2022 Standard - 16 Core License Pack",
    "Windows Server 2025 Datacenter - 2 Core License Pack",
    "SQL Server 2022 Standard - 2 Core License Pack",
    "Office LTSC Professional Plus 2024",
    "Windows 11 Pro",
];

impl Product {
    /// The product's SKU id (lowercase), used in license assignments.
    pub(crate) fn sku_id(&self) -> String {
        guid_for(self.name)
    }

    pub(crate) fn is_trial(&self) -> bool {
        matches!(self.kind, Trial { .. })
    }

    /// Whether a user can be assigned a license of it.
    pub(crate) fn is_licensable(&self) -> bool {
        !matches!(self.kind, Azure)
    }

    /// A plausible order quantity for a customer of `seats` people.
    pub(crate) fn quantity(&self, rng: &mut Rng, seats: u32) -> u32 {
        match self.kind {
            Azure => 1,
            Trial { .. } => 25,
            AddOn { .. } => rng.range(1, u64::from(seats / 3).max(1)) as u32,
            Seats => {
                let hi = u64::from(seats.max(1));
                // Most orders cover part of the staff; a few cover everyone.
                if rng.per_mille(200) {
                    hi as u32
                } else {
                    rng.range(1, hi.div_ceil(2)) as u32
                }
            }
        }
    }
}

/// The index of a product by name.
pub(crate) fn index_of(name: &str) -> usize {
    PRODUCTS
        .iter()
        .position(|p| p.name == name)
        .unwrap_or_else(|| panic!("{name} is not in the catalog"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_names_a_product_and_offer_ids_are_distinct() {
        let mut offers: Vec<_> = PRODUCTS.iter().map(|p| p.offer_id).collect();
        offers.sort_unstable();
        offers.dedup();
        assert_eq!(offers.len(), PRODUCTS.len());
        for p in PRODUCTS {
            if let Some(up) = p.upgrade {
                assert!(!PRODUCTS[index_of(up)].is_trial());
            }
            match p.kind {
                Trial { paid } => assert!(!PRODUCTS[index_of(paid)].is_trial()),
                AddOn { bases } => {
                    for base in bases {
                        let _ = index_of(base);
                    }
                }
                _ => {}
            }
        }
    }
}
