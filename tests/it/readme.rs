//! The README's route table against the route table: every row the core has is listed there,
//! and nothing else is.

use std::collections::BTreeSet;

/// `(method, path)` of every route the README's "Routes served" table lists: each method of a
/// row with each backquoted path (starting with `/`) of its second column.
fn readme_routes() -> BTreeSet<(String, String)> {
    let readme = include_str!("../../README.md");
    let table = readme
        .split("## Routes served")
        .nth(1)
        .expect("the README has a Routes served section");
    let mut routes = BTreeSet::new();
    for row in table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (methods, paths) = (cells[1], cells[2]);
        let paths: Vec<&str> = paths
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|p| p.starts_with('/'))
            .collect();
        for method in methods.split(',').map(str::trim) {
            for path in &paths {
                routes.insert((method.to_owned(), (*path).to_owned()));
            }
        }
    }
    routes
}

#[test]
fn the_readme_lists_every_route_and_only_those() {
    let table: BTreeSet<(String, String)> = knogin::core::http::routes()
        .iter()
        .map(|r| (r.method().to_string(), r.path().to_owned()))
        .collect();
    let readme = readme_routes();
    let missing: Vec<_> = table.difference(&readme).collect();
    let extra: Vec<_> = readme.difference(&table).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README route table out of date: missing {missing:?}, not served {extra:?}"
    );
}
