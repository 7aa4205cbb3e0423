//! What rtgen knows about each strategy, in one place: `explain`, the interview hints and
//! the advisor's cons all read it.
