//! Identifiers a session hands out or relays, and the subscription ack mode
//! (STOMP 1.2 §"SUBSCRIBE id Header", §"SUBSCRIBE ack Header", §"Header receipt", §"BEGIN").

use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub String);

        impl $name {
            /// The wire value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }
    };
}

string_id!(
    /// A subscription's `id` header value; unique per connection.
    SubscriptionId
);
string_id!(
    /// A `receipt` header value, echoed back as `receipt-id`.
    ReceiptId
);
string_id!(
    /// A `transaction` header value; unique per connection.
    TransactionId
);

/// The `ack` header of SUBSCRIBE (STOMP 1.2 §"SUBSCRIBE ack Header"). Missing means `auto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AckMode {
    /// The server considers a message consumed once sent.
    #[default]
    Auto,
    /// ACK/NACK are cumulative: they cover every earlier message of the subscription.
    Client,
    /// ACK/NACK cover exactly one message.
    ClientIndividual,
}

impl AckMode {
    /// The wire form.
    pub const fn as_str(self) -> &'static str {
        match self {
            AckMode::Auto => "auto",
            AckMode::Client => "client",
            AckMode::ClientIndividual => "client-individual",
        }
    }

    /// Parse the wire form (case sensitive). `client-individual` is 1.1+, but accepted from 1.0
    /// clients too.
    pub fn parse(s: &str) -> Option<AckMode> {
        match s {
            "auto" => Some(AckMode::Auto),
            "client" => Some(AckMode::Client),
            "client-individual" => Some(AckMode::ClientIndividual),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_modes_round_trip() {
        for m in [AckMode::Auto, AckMode::Client, AckMode::ClientIndividual] {
            assert_eq!(AckMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(AckMode::parse("Client"), None);
        assert_eq!(AckMode::default(), AckMode::Auto);
    }
}
