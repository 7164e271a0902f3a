//! Every visible string, in English and Italian (Fluent, `locales/*.ftl`).
//!
//! Fluent's Unicode isolation marks are turned off: the output is HTML and CSV, where they would
//! only be invisible noise.

use std::collections::HashMap;
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use actlog_domain::catalog::Lang;

const SOURCES: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../../locales/en-US.ftl")),
    (Lang::It, include_str!("../../locales/it-IT.ftl")),
];

static BUNDLES: LazyLock<HashMap<Lang, FluentBundle<FluentResource>>> = LazyLock::new(|| {
    SOURCES
        .into_iter()
        .map(|(lang, source)| {
            let resource =
                FluentResource::try_new(source.to_owned()).expect("the bundled .ftl files parse");
            let locale = lang.tag().parse().expect("valid language tags");
            let mut bundle = FluentBundle::new_concurrent(vec![locale]);
            bundle.set_use_isolating(false);
            bundle
                .add_resource(resource)
                .expect("no duplicate message ids");
            (lang, bundle)
        })
        .collect()
});

/// The strings of one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Tr { lang }
    }

    /// The message `id`; its id itself when missing, so a gap shows without breaking the page.
    pub fn t(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with one argument.
    pub fn t1(&self, id: &str, name: &str, value: impl Into<FluentValue<'static>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), value.into());
        self.format(id, Some(&args))
    }

    /// The message `id` with several arguments.
    pub fn args(&self, id: &str, values: &[(&str, FluentValue<'static>)]) -> String {
        let mut args = FluentArgs::new();
        for (name, value) in values {
            args.set(name.to_string(), value.clone());
        }
        self.format(id, Some(&args))
    }

    fn format(&self, id: &str, args: Option<&FluentArgs>) -> String {
        let bundle = &BUNDLES[&self.lang];
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return id.to_owned();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, args, &mut errors)
            .into_owned()
    }

    /// The BCP 47 tag, for `<html lang>`.
    pub fn tag(&self) -> &'static str {
        self.lang.tag()
    }
}

/// The message ids of a `.ftl` source.
#[cfg(test)]
fn ids(source: &str) -> Vec<&str> {
    source
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_italian_have_the_same_messages() {
        let en = ids(SOURCES[0].1);
        let it = ids(SOURCES[1].1);
        assert!(en.len() > 10);
        assert_eq!(en, it);
    }

    #[test]
    fn messages_format_without_isolation_marks() {
        let it = Tr::new(Lang::It);
        assert_eq!(it.t("nav-activity-log"), "Log attività");
        let text = it.t1("nav-signed-in-as", "email", "a@b.example");
        assert_eq!(text, "Accesso eseguito come a@b.example");
        assert_eq!(
            Tr::new(Lang::En).t1("sign-in-throttled", "minutes", 1),
            "Too many failed attempts. Try again in one minute."
        );
        assert_eq!(it.t("no-such-message"), "no-such-message");
    }
}
