//! The validated values of a request: a value that exists is valid.

mod callback_url;
mod furigana;
mod timestamp;
mod user_id;

pub use callback_url::CallbackUrl;
pub use furigana::Furigana;
pub use timestamp::Timestamp;
pub use user_id::UserId;
