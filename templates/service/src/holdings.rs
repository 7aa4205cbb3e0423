//! Which channels each client address holds, through all its connections: what
//! `MAX_CHANNELS_PER_ADDR` bounds, and what decides who is refused when the channel
//! table is full, so that one address subscribing to many names denies nobody else.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;

use crate::channel::ChannelName;

/// Per client address, the distinct channels it holds and by how many of its
/// subscriptions.
#[derive(Default)]
pub struct Holdings(HashMap<IpAddr, HashMap<ChannelName, u32>>);

/// Why a subscription was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Over {
    /// The address would hold more than `MAX_CHANNELS_PER_ADDR` channels.
    Address,
    /// The table is full and the address already holds its share of it.
    Share,
}

impl Holdings {
    /// How many distinct channels `addr` holds.
    pub fn count(&self, addr: IpAddr) -> usize {
        self.0.get(&addr).map_or(0, HashMap::len)
    }

    /// Whether `addr` may take `channels` on top of what it holds: at most `per_addr`
    /// channels, and when `table_full`, only while it holds less than an equal share of
    /// `table` among the addresses holding channels (so the biggest holders are refused
    /// first, never everyone).
    pub fn admits(
        &self,
        addr: IpAddr,
        channels: &[ChannelName],
        per_addr: usize,
        table: usize,
        table_full: bool,
    ) -> Result<(), Over> {
        let held = self.0.get(&addr);
        let new = channels
            .iter()
            .filter(|channel| !held.is_some_and(|held| held.contains_key(*channel)))
            .count();
        if new == 0 {
            return Ok(());
        }
        let count = self.count(addr);
        if count + new > per_addr {
            return Err(Over::Address);
        }
        let holders = self.0.len() + usize::from(held.is_none());
        if table_full && count >= table / holders {
            return Err(Over::Share);
        }
        Ok(())
    }

    pub fn add(&mut self, addr: IpAddr, channel: &ChannelName) {
        *self
            .0
            .entry(addr)
            .or_default()
            .entry(channel.clone())
            .or_default() += 1;
    }

    pub fn remove(&mut self, addr: IpAddr, channel: &ChannelName) {
        let Entry::Occupied(mut held) = self.0.entry(addr) else {
            return;
        };
        if let Entry::Occupied(mut count) = held.get_mut().entry(channel.clone()) {
            *count.get_mut() -= 1;
            if *count.get() == 0 {
                count.remove();
            }
        }
        if held.get().is_empty() {
            held.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<ChannelName> {
        names
            .iter()
            .map(|n| ChannelName::parse(n).unwrap())
            .collect()
    }

    #[test]
    fn an_address_holds_at_most_its_cap_of_distinct_channels() {
        let (a, b) = ([127, 0, 0, 1].into(), [127, 0, 0, 2].into());
        let mut holdings = Holdings::default();
        for channel in names(&["x", "y"]) {
            // Two connections of one address on the same channel hold it once.
            holdings.add(a, &channel);
            holdings.add(a, &channel);
        }
        assert_eq!(holdings.count(a), 2);
        assert_eq!(holdings.admits(a, &names(&["x"]), 2, 100, false), Ok(()));
        assert_eq!(
            holdings.admits(a, &names(&["z"]), 2, 100, false),
            Err(Over::Address)
        );
        assert_eq!(holdings.admits(b, &names(&["z"]), 2, 100, false), Ok(()));
        holdings.remove(a, &names(&["y"])[0]);
        assert_eq!(holdings.count(a), 2, "still held by the other connection");
        holdings.remove(a, &names(&["y"])[0]);
        assert_eq!(holdings.admits(a, &names(&["z"]), 2, 100, false), Ok(()));
    }

    #[test]
    fn a_full_table_refuses_the_biggest_holder_not_a_newcomer() {
        let (flood, newcomer) = ([127, 0, 0, 1].into(), [127, 0, 0, 2].into());
        let mut holdings = Holdings::default();
        for n in 0..10 {
            holdings.add(flood, &ChannelName::parse(&format!("c{n}")).unwrap());
        }
        let more = names(&["more"]);
        assert_eq!(
            holdings.admits(flood, &more, 100, 10, true),
            Err(Over::Share)
        );
        assert_eq!(holdings.admits(newcomer, &more, 100, 10, true), Ok(()));
    }
}
