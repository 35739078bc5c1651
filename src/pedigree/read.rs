//! The pedigree: animals with their sire and dam, read from three text
//! columns in any order and sorted so that parents precede offspring.
//!
//! Unknown parents are written `0`, `NA`, `.` or left empty. Parents not
//! listed as animals are added as founders. The order is the input order
//! wherever it already has parents first; an animal listed before one of
//! its parents is moved after it (a depth-first topological sort, parents
//! first, sire before dam, so an added founder comes just before its first
//! offspring). An animal that is its own ancestor, an animal used both as a
//! sire and as a dam, and an animal listed twice with different parents are
//! errors naming the animals.

use super::PedigreeError;
use crate::data::{Incidence, Table};
use std::collections::HashMap;

/// The texts that mean "unknown parent".
pub const UNKNOWN_PARENT: [&str; 4] = ["0", "NA", ".", ""];

fn is_unknown(s: &str) -> bool {
    UNKNOWN_PARENT.contains(&s)
}

/// A pedigree sorted so that parents precede offspring; animals are indexed
/// `0..len()` in that order. The order is the input order wherever it
/// already has parents first; an animal listed before one of its parents is
/// moved after it (depth-first, parents first, sire before dam, so a founder
/// added from the parent columns comes just before its first offspring).
///
/// ```
/// use covreml::pedigree::Pedigree;
/// // offspring listed before its parents; the dam "D" is not listed
/// let p = Pedigree::from_columns(&["C", "A", "B"], &["A", "0", "NA"], &["D", ".", ""]).unwrap();
/// assert_eq!(p.ids(), ["A", "D", "C", "B"]);
/// assert_eq!(p.sire(2), Some(0));
/// assert_eq!(p.dam(2), Some(1));
/// assert_eq!(p.index_of("D"), Some(1));
/// // a loop is an error naming the animals
/// let e = Pedigree::from_columns(&["X", "Y"], &["Y", "X"], &["0", "0"]).unwrap_err();
/// assert_eq!(e.to_string(), "animal `X` is its own ancestor: X → Y → X");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Pedigree {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    sire: Vec<Option<usize>>,
    dam: Vec<Option<usize>>,
}

#[derive(Clone, Copy)]
enum Role {
    Sire(usize),
    Dam(usize),
}

/// The pedigree's records in input order before sorting: the listed
/// animals (each once), then, once [`Records::link_parents`] has run, the
/// parents not listed.
struct Records {
    ids: Vec<String>,
    index: HashMap<String, usize>,
    /// The input row of each listed animal.
    row_of: Vec<usize>,
    /// The sire and dam texts of each listed animal (`None`: unknown).
    parents: Vec<[Option<String>; 2]>,
}

impl Records {
    /// The animals of the three columns (of equal length) in input order;
    /// an unknown animal or an animal listed twice with different parents
    /// is an error.
    fn read<S: AsRef<str>>(animal: &[S], sire: &[S], dam: &[S]) -> Result<Self, PedigreeError> {
        let mut records = Records {
            ids: Vec::with_capacity(animal.len()),
            index: HashMap::with_capacity(animal.len()),
            row_of: Vec::with_capacity(animal.len()),
            parents: Vec::with_capacity(animal.len()),
        };
        let text = |s: &S| {
            let t = s.as_ref().trim();
            (!is_unknown(t)).then(|| t.to_string())
        };
        for (row, ((a, s), d)) in animal.iter().zip(sire).zip(dam).enumerate() {
            let a_text = a.as_ref().trim();
            if is_unknown(a_text) {
                return Err(PedigreeError::MissingAnimal {
                    row,
                    id: a_text.to_string(),
                });
            }
            records.add(row, a_text, [text(s), text(d)])?;
        }
        Ok(records)
    }

    /// Adds animal `a` of input row `row` with parents `pd`, unless it is
    /// already listed with the same parents (an error if with others).
    fn add(&mut self, row: usize, a: &str, pd: [Option<String>; 2]) -> Result<(), PedigreeError> {
        match self.index.get(a) {
            Some(&k) if self.parents[k] == pd => {}
            Some(&k) => {
                let show = |p: &[Option<String>; 2]| {
                    let t = |x: &Option<String>| x.clone().unwrap_or_else(|| "0".into());
                    format!("sire `{}`, dam `{}`", t(&p[0]), t(&p[1]))
                };
                return Err(PedigreeError::DuplicateAnimal {
                    animal: a.to_string(),
                    first_row: self.row_of[k],
                    first_parents: show(&self.parents[k]),
                    row,
                    parents: show(&pd),
                });
            }
            None => {
                self.index.insert(a.to_string(), self.ids.len());
                self.ids.push(a.to_string());
                self.row_of.push(row);
                self.parents.push(pd);
            }
        }
        Ok(())
    }

    /// The sire and dam of every animal as indices into `ids`, appending
    /// the parents not listed as animals (founders, in order of first
    /// mention) to `ids`.
    fn link_parents(&mut self) -> Vec<[Option<usize>; 2]> {
        let listed = self.ids.len();
        let mut links: Vec<[Option<usize>; 2]> = Vec::with_capacity(listed);
        for pd in &self.parents {
            let mut l = [None, None];
            for (slot, p) in l.iter_mut().zip(pd) {
                if let Some(p) = p {
                    let ids = &mut self.ids;
                    let j = *self.index.entry(p.clone()).or_insert_with(|| {
                        ids.push(p.clone());
                        ids.len() - 1
                    });
                    *slot = Some(j);
                }
            }
            links.push(l);
        }
        links.resize(self.ids.len(), [None, None]);
        links
    }
}

impl Pedigree {
    /// Reads a pedigree from its animal, sire and dam columns (texts are
    /// trimmed; unknown parents are `0`, `NA`, `.` or empty, see
    /// [`UNKNOWN_PARENT`]; the order is explained on [`Pedigree`]).
    pub fn from_columns<S: AsRef<str>>(
        animal: &[S],
        sire: &[S],
        dam: &[S],
    ) -> Result<Self, PedigreeError> {
        if animal.len() != sire.len() || animal.len() != dam.len() {
            return Err(PedigreeError::RaggedColumns {
                animals: animal.len(),
                sires: sire.len(),
                dams: dam.len(),
            });
        }
        let mut records = Records::read(animal, sire, dam)?;
        let links = records.link_parents();
        check_roles(&records.ids, &links)?;
        let order = parents_first(&records.ids, &links)?;
        Ok(Self::renumbered(&records.ids, &links, &order))
    }

    /// The pedigree of animals `ids` with parents `links` (indices into
    /// `ids`), renumbered in the order `order` (old indices, new order).
    fn renumbered(ids: &[String], links: &[[Option<usize>; 2]], order: &[usize]) -> Self {
        let mut new_of = vec![0usize; ids.len()];
        for (new, &old) in order.iter().enumerate() {
            new_of[old] = new;
        }
        let sorted_ids: Vec<String> = order.iter().map(|&o| ids[o].clone()).collect();
        let sire = order
            .iter()
            .map(|&o| links[o][0].map(|p| new_of[p]))
            .collect();
        let dam = order
            .iter()
            .map(|&o| links[o][1].map(|p| new_of[p]))
            .collect();
        let index = sorted_ids
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i))
            .collect();
        Pedigree {
            ids: sorted_ids,
            index,
            sire,
            dam,
        }
    }

    /// Reads a pedigree from the columns `animal`, `sire` and `dam` of a
    /// table.
    ///
    /// ```
    /// use covreml::data::Table;
    /// use covreml::pedigree::Pedigree;
    /// let t = Table::parse("id,sire,dam\n3,1,2\n1,0,0\n2,0,0\n").unwrap();
    /// let p = Pedigree::from_table(&t, "id", "sire", "dam").unwrap();
    /// assert_eq!(p.ids(), ["1", "2", "3"]);
    /// ```
    pub fn from_table(
        table: &Table,
        animal: &str,
        sire: &str,
        dam: &str,
    ) -> Result<Self, PedigreeError> {
        Self::from_columns(
            table.column(animal)?,
            table.column(sire)?,
            table.column(dam)?,
        )
    }

    /// Number of animals (listed ones and founders added from parents).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the pedigree has no animal.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Animal ids, in the pedigree's order (parents first): index → id.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The index of animal `id` (id → index).
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id.trim()).copied()
    }

    /// The sire of animal `i`, if known (its index, always `< i`).
    pub fn sire(&self, i: usize) -> Option<usize> {
        self.sire[i]
    }

    /// The dam of animal `i`, if known (its index, always `< i`).
    pub fn dam(&self, i: usize) -> Option<usize> {
        self.dam[i]
    }

    /// The design `Z` that maps records to animals: row `r` has its 1 in
    /// the column of animal `animals[r]`; its levels are named by the animal
    /// ids (so BLUPs are labelled by animal). An id not in the pedigree is
    /// an error naming the row.
    ///
    /// ```
    /// use covreml::pedigree::Pedigree;
    /// let p = Pedigree::from_columns(&["1", "2", "3"], &["0", "0", "1"], &["0", "0", "2"]).unwrap();
    /// let z = p.incidence(&["3", "3", "1"]).unwrap();
    /// assert_eq!(z.levels(), [2, 2, 0]);
    /// assert_eq!(z.level_names(), ["1", "2", "3"]);
    /// assert!(p.incidence(&["4"]).is_err());
    /// ```
    pub fn incidence<S: AsRef<str>>(&self, animals: &[S]) -> Result<Incidence, PedigreeError> {
        let levels = animals
            .iter()
            .enumerate()
            .map(|(row, a)| {
                self.index_of(a.as_ref())
                    .ok_or_else(|| PedigreeError::UnknownAnimal {
                        row,
                        id: a.as_ref().to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Incidence::with_names(levels, self.ids().to_vec())?)
    }
}

/// An animal used as a sire and as a dam is an error.
fn check_roles(ids: &[String], links: &[[Option<usize>; 2]]) -> Result<(), PedigreeError> {
    let mut role: Vec<Option<Role>> = vec![None; ids.len()];
    for (child, l) in links.iter().enumerate() {
        for (k, p) in l.iter().enumerate() {
            let Some(p) = *p else { continue };
            let conflict = match (role[p], k) {
                (Some(Role::Dam(other)), 0) => Some((child, other)),
                (Some(Role::Sire(other)), 1) => Some((other, child)),
                (None, 0) => {
                    role[p] = Some(Role::Sire(child));
                    None
                }
                (None, _) => {
                    role[p] = Some(Role::Dam(child));
                    None
                }
                _ => None,
            };
            if let Some((sired, mothered)) = conflict {
                return Err(PedigreeError::SexConflict {
                    animal: ids[p].clone(),
                    as_sire_of: ids[sired].clone(),
                    as_dam_of: ids[mothered].clone(),
                });
            }
        }
    }
    Ok(())
}

/// Depth-first topological order, parents (sire, then dam) before each
/// animal, animals taken in input order; a loop is an error naming it.
fn parents_first(
    ids: &[String],
    links: &[[Option<usize>; 2]],
) -> Result<Vec<usize>, PedigreeError> {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let n = ids.len();
    let mut state = vec![NEW; n];
    let mut order = Vec::with_capacity(n);
    // (animal, number of parents looked at)
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if state[root] != NEW {
            continue;
        }
        state[root] = OPEN;
        stack.push((root, 0));
        while let Some(top) = stack.last_mut() {
            let (a, k) = *top;
            if k == 2 {
                state[a] = DONE;
                order.push(a);
                stack.pop();
                continue;
            }
            top.1 += 1;
            let Some(p) = links[a][k] else { continue };
            match state[p] {
                NEW => {
                    state[p] = OPEN;
                    stack.push((p, 0));
                }
                OPEN => {
                    // The stack from `p` up is a chain of parents back to `p`.
                    let from = stack
                        .iter()
                        .position(|&(x, _)| x == p)
                        .expect("an open animal is on the stack");
                    let mut cycle: Vec<String> =
                        stack[from..].iter().map(|&(x, _)| ids[x].clone()).collect();
                    cycle.push(ids[p].clone());
                    return Err(PedigreeError::Cycle {
                        animal: ids[p].clone(),
                        cycle,
                    });
                }
                _ => {}
            }
        }
    }
    Ok(order)
}
