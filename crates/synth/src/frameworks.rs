//! The seed frameworks, shipped as data files in `frameworks/`.

use cadre_model::Framework;

/// Cambridge City Council's competency framework (staff and managers).
pub const CAMBRIDGE: &str = include_str!("../../../frameworks/cambridge-city-council.json");
/// Kenya's Competency Framework for the County Public Service.
pub const KENYA: &str = include_str!("../../../frameworks/kenya-county-public-service.json");

/// Both seed frameworks, parsed.
pub fn seed_frameworks() -> Vec<Framework> {
    [CAMBRIDGE, KENYA]
        .iter()
        .map(|t| Framework::from_json(t).expect("shipped frameworks are valid"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cambridge_has_every_staff_and_manager_competency() {
        let f = Framework::from_json(CAMBRIDGE).expect("parses");
        let staff = f
            .competencies
            .iter()
            .filter(|c| c.category == "staff")
            .count();
        let managers = f
            .competencies
            .iter()
            .filter(|c| c.category == "manager")
            .count();
        assert_eq!((staff, managers), (5, 8));
        let change = f
            .competency("ccc.manager.managing-change")
            .expect("managing change");
        assert_eq!(change.indicators.len(), 3);
        assert!(f.competencies.iter().all(|c| !c.indicators.is_empty()));
        let indicators: usize = f.competencies.iter().map(|c| c.indicators.len()).sum();
        assert_eq!(indicators, 57, "every indicator of the seed text");
        assert_eq!(f.scale.max(), 5);
    }

    #[test]
    fn kenya_has_four_categories_each_with_competencies() {
        let f = Framework::from_json(KENYA).expect("parses");
        let cats: Vec<&str> = f.categories.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(cats, ["core", "leadership", "managerial", "technical"]);
        for c in &cats {
            assert!(
                f.competencies.iter().any(|k| k.category == *c),
                "{c} is empty"
            );
        }
        let values: Vec<&str> = f.values.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(
            values,
            [
                "responsible",
                "accountable",
                "adaptive",
                "innovative",
                "creative",
                "self-directed",
                "self-motivated"
            ]
        );
    }
}
