//! Query parameters shared by the subscribe endpoints.

use crate::channel::ChannelName;
use crate::error::ApiError;
use crate::id::Id;

/// Channels one client may follow at once.
pub const MAX_CHANNELS_PER_CLIENT: usize = 32;

/// The `channel` parameters (repeatable), validated and deduplicated in order.
pub fn channels(query: &[(String, String)]) -> Result<Vec<ChannelName>, ApiError> {
    let mut channels = Vec::new();
    for (_, value) in query.iter().filter(|(key, _)| key == "channel") {
        let channel = ChannelName::parse(value)
            .map_err(|e| ApiError::bad_request(format!("channel {value:?}: {e}")))?;
        if !channels.contains(&channel) {
            channels.push(channel);
        }
    }
    if channels.is_empty() {
        return Err(ApiError::bad_request(
            "name at least one channel, as in ?channel=news&channel=user:42",
        ));
    }
    if channels.len() > MAX_CHANNELS_PER_CLIENT {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_CHANNELS_PER_CLIENT} channels per client"
        )));
    }
    Ok(channels)
}

/// The last value of parameter `key`, parsed as a message id.
pub fn id(query: &[(String, String)], key: &str) -> Result<Option<Id>, ApiError> {
    query
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, value)| {
            Id::parse(value).map_err(|e| ApiError::bad_request(format!("{key}: {e}")))
        })
        .transpose()
}
