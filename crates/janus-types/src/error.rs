//! The one domain error. Each variant is named exactly like the Cognito error code the
//! wire surface sends as `__type`; surfaces convert it, services only ever return it.

/// Result alias used across Janus's library crates.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A domain error, named as Cognito names it.
#[allow(missing_docs, clippy::enum_variant_names)]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidParameterException(String),
    #[error("{0}")]
    ResourceNotFoundException(String),
    #[error("{0}")]
    UserNotFoundException(String),
    #[error("{0}")]
    UsernameExistsException(String),
    #[error("{0}")]
    AliasExistsException(String),
    #[error("{0}")]
    GroupExistsException(String),
    #[error("{0}")]
    InvalidPasswordException(String),
    #[error("{0}")]
    NotAuthorizedException(String),
    #[error("{0}")]
    UnrecognizedClientException(String),
    #[error("{0}")]
    InvalidSignatureException(String),
    #[error("{0}")]
    MissingAuthenticationTokenException(String),
    #[error("{0}")]
    IncompleteSignatureException(String),
    #[error("{0}")]
    OperationNotEnabledException(String),
    #[error("{0}")]
    FeatureUnavailableInTierException(String),
    #[error("{0}")]
    TierChangeNotAllowedException(String),
    #[error("{0}")]
    LimitExceededException(String),
    #[error("{0}")]
    UserNotConfirmedException(String),
    #[error("{0}")]
    UnsupportedUserStateException(String),
    #[error("{0}")]
    PasswordResetRequiredException(String),
    #[error("{0}")]
    UnsupportedOperationException(String),
    #[error("{0}")]
    UnsupportedTokenTypeException(String),
    /// RevokeToken's "not authorised" (its model has no NotAuthorizedException).
    #[error("{0}")]
    UnauthorizedException(String),
    #[error("{0}")]
    CodeMismatchException(String),
    #[error("{0}")]
    ExpiredCodeException(String),
    #[error("{0}")]
    TooManyFailedAttemptsException(String),
    #[error("{0}")]
    TooManyRequestsException(String),
    #[error("{0}")]
    InvalidLambdaResponseException(String),
    /// A trigger's function answered with an error: the sign-up or sign-in it ran for is refused.
    #[error("{0}")]
    UserLambdaValidationException(String),
    /// A trigger's function could not be called (not found, timed out, throttled).
    #[error("{0}")]
    UnexpectedLambdaException(String),
    #[error("{0}")]
    InvalidUserPoolConfigurationException(String),
    #[error("{0}")]
    SerializationException(String),
    #[error("{0}")]
    UnknownOperationException(String),
    #[error("{0}")]
    ConcurrentModificationException(String),
    /// An import job not in the state the operation needs (no CSV uploaded, not running).
    #[error("{0}")]
    PreconditionNotMetException(String),
    /// ConfirmDevice of a device already confirmed.
    #[error("{0}")]
    DeviceKeyExistsException(String),
    #[error("{0}")]
    SoftwareTokenMFANotFoundException(String),
    #[error("{0}")]
    EnableSoftwareTokenMFAException(String),
    #[error("{0}")]
    CodeDeliveryFailureException(String),
    /// Something that should not happen; its cause goes to the log, never to the caller.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
    /// The store cannot be reached (a shared database restarting, say): a server-side fault
    /// the caller should retry (HTTP 503). The cause goes to the log, never to the caller.
    #[error("the store is unavailable")]
    Unavailable(#[source] anyhow::Error),
}

impl Error {
    /// The Cognito error code sent as `__type`.
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            InvalidParameterException(_) => "InvalidParameterException",
            ResourceNotFoundException(_) => "ResourceNotFoundException",
            UserNotFoundException(_) => "UserNotFoundException",
            UsernameExistsException(_) => "UsernameExistsException",
            AliasExistsException(_) => "AliasExistsException",
            GroupExistsException(_) => "GroupExistsException",
            InvalidPasswordException(_) => "InvalidPasswordException",
            NotAuthorizedException(_) => "NotAuthorizedException",
            UnrecognizedClientException(_) => "UnrecognizedClientException",
            InvalidSignatureException(_) => "InvalidSignatureException",
            MissingAuthenticationTokenException(_) => "MissingAuthenticationTokenException",
            IncompleteSignatureException(_) => "IncompleteSignatureException",
            OperationNotEnabledException(_) => "OperationNotEnabledException",
            FeatureUnavailableInTierException(_) => "FeatureUnavailableInTierException",
            TierChangeNotAllowedException(_) => "TierChangeNotAllowedException",
            LimitExceededException(_) => "LimitExceededException",
            UserNotConfirmedException(_) => "UserNotConfirmedException",
            UnsupportedUserStateException(_) => "UnsupportedUserStateException",
            PasswordResetRequiredException(_) => "PasswordResetRequiredException",
            UnsupportedOperationException(_) => "UnsupportedOperationException",
            UnsupportedTokenTypeException(_) => "UnsupportedTokenTypeException",
            UnauthorizedException(_) => "UnauthorizedException",
            CodeMismatchException(_) => "CodeMismatchException",
            ExpiredCodeException(_) => "ExpiredCodeException",
            TooManyFailedAttemptsException(_) => "TooManyFailedAttemptsException",
            TooManyRequestsException(_) => "TooManyRequestsException",
            InvalidLambdaResponseException(_) => "InvalidLambdaResponseException",
            UserLambdaValidationException(_) => "UserLambdaValidationException",
            UnexpectedLambdaException(_) => "UnexpectedLambdaException",
            InvalidUserPoolConfigurationException(_) => "InvalidUserPoolConfigurationException",
            SerializationException(_) => "SerializationException",
            UnknownOperationException(_) => "UnknownOperationException",
            ConcurrentModificationException(_) => "ConcurrentModificationException",
            DeviceKeyExistsException(_) => "DeviceKeyExistsException",
            PreconditionNotMetException(_) => "PreconditionNotMetException",
            SoftwareTokenMFANotFoundException(_) => "SoftwareTokenMFANotFoundException",
            EnableSoftwareTokenMFAException(_) => "EnableSoftwareTokenMFAException",
            CodeDeliveryFailureException(_) => "CodeDeliveryFailureException",
            Internal(_) | Unavailable(_) => "InternalErrorException",
        }
    }

    /// True for a server-side fault (HTTP 500 or 503); everything else is the caller's (HTTP 400).
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Internal(_) | Error::Unavailable(_))
    }

    /// True when the fault is the store being unreachable (HTTP 503: retry shortly).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }

    /// Shorthand for an `InvalidParameterException`.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidParameterException(msg.into())
    }

    /// Shorthand for an `Internal` error from anything printable.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Error::Internal(e.into())
    }

    /// The pool is missing: the message Cognito sends.
    pub fn pool_not_found(id: &str) -> Self {
        Error::ResourceNotFoundException(format!("User pool {id} does not exist."))
    }

    /// A failed sign-in: the one message Cognito sends for unknown users and wrong passwords.
    pub fn bad_credentials() -> Self {
        Error::NotAuthorizedException("Incorrect username or password.".into())
    }

    /// The user is missing: the message Cognito sends.
    pub fn user_not_found() -> Self {
        Error::UserNotFoundException("User does not exist.".into())
    }
}
