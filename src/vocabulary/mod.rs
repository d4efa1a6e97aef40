//! The vocabulary rule files, calls and reports share: directions and
//! statuses of a call, the fields a condition tests and their types, the
//! built-in step kinds, e-mail addresses (`email.rs`) and timestamps
//! (`time.rs`). The checker and the runtime both use these words, so they
//! sit below both: nothing here imports anything of the crate.

pub(crate) mod email;
pub(crate) mod time;

words! {
    /// Which way a call went.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Direction {
        Incoming = "incoming",
        Outgoing = "outgoing",
        /// Between two telephony users of the same company (CloudTalk's
        /// `internal` calls).
        Internal = "internal",
    }
}

impl Direction {
    /// This direction's bit in a rule's set of directions (a compiled condition).
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

words! {
    /// How a call ended.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Status {
        Answered = "answered",
        Missed = "missed",
        Voicemail = "voicemail",
    }
}

impl Status {
    /// This status's bit in a rule's set of statuses (a compiled condition).
    pub fn bit(self) -> u8 {
        1 << self as u8
    }
}

words! {
    /// The built-in step kinds of the documented priority.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Builtin {
        /// Step 0: the call's own agent, when it is an active integration user.
        CallAgent = "call_agent",
        /// Step 1: the agent on the last reached call-to-agent/group flow step.
        LastStepAgent = "last_step_agent",
        /// Step 2: the e-mail configured on the last reached voicemail step.
        VoicemailEmail = "voicemail_email",
        /// Step 3: the contact's owner in the integrated app.
        ContactOwner = "contact_owner",
        /// Step 4: the contact's favorite agent.
        FavoriteAgent = "favorite_agent",
    }
}

words! {
    /// The call fields a condition can test.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Field {
        Direction = "direction",
        Status = "status",
        Agent = "agent",
        Tags = "tags",
        Number = "number",
        Duration = "duration",
        StartedAt = "started_at",
        Contact = "contact",
        ContactId = "contact.id",
        ContactOwner = "contact.owner",
        ContactFavoriteAgent = "contact.favorite_agent",
        /// The `type` of the last reached call-flow step.
        LastStep = "last_step",
    }
}

/// What kind of values a field holds, which decides the operators it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A call direction (`incoming`, …).
    Direction,
    /// A call status (`missed`, …).
    Status,
    /// An e-mail address: compared trimmed, ASCII letters in any case.
    Email,
    /// Text compared exactly.
    Text,
    /// A flow step type: open-ended text, written bare (`voicemail`).
    FlowStepType,
    /// A list of tags, tested one at a time (`"vip" in tags`).
    Tags,
    /// Whole seconds.
    Integer,
    /// An RFC 3339 timestamp.
    Timestamp,
    /// Only presence can be tested (`contact == null`).
    Object,
}

impl Field {
    /// What kind of values the field holds.
    pub fn field_type(self) -> FieldType {
        match self {
            Field::Direction => FieldType::Direction,
            Field::Status => FieldType::Status,
            Field::Agent | Field::ContactFavoriteAgent => FieldType::Email,
            Field::Number | Field::ContactId | Field::ContactOwner => FieldType::Text,
            Field::LastStep => FieldType::FlowStepType,
            Field::Tags => FieldType::Tags,
            Field::Duration => FieldType::Integer,
            Field::StartedAt => FieldType::Timestamp,
            Field::Contact => FieldType::Object,
        }
    }

    /// Whether a call can lack this field (`== null` makes sense).
    pub fn nullable(self) -> bool {
        !matches!(self, Field::Direction | Field::Status | Field::Tags)
    }
}
