//! Who is asking: the token a request presents, and the [`Identity`] it proves.
//!
//! A token is read from `Authorization: Bearer <token>` (any case of `Bearer`), then
//! from the cookie `rt_token` (on the subscribe paths only: `EventSource` cannot set
//! headers), then from `?token=` (the last resort: query strings land in access logs).
//! The functions that find it take plain header values, so the direct socket path and
//! the one through axum read tokens the same way.
//!
//! A token equal to `PUBLISH_TOKEN` is the server-to-server credential; any other is
//! verified as a JWT with the one key configured, its algorithm pinned to that key.
//! Tokens are never logged, and no message here quotes one.

use std::fmt;
use std::path::Path;

use axum::http::{HeaderMap, header};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::policy::{Decision, Identity, Mode, Pattern, Refusal, User};

/// The cookie a browser presents its token in.
pub const COOKIE: &str = "rt_token";
/// Shortest accepted `JWT_SECRET`, in bytes: HS256 is no stronger than its key.
pub const MIN_SECRET_LEN: usize = 32;
/// Clock skew tolerated on `exp` and `nbf`, in seconds (the crate's default is 60).
pub const LEEWAY_SECS: u64 = 30;

/// Whether the cookie counts on this path: yes for the subscribe paths, never for
/// `POST /publish`, where a cookie the browser adds on its own would let any page the
/// user visits publish in their name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cookie {
    Accepted,
    Ignored,
}

/// The token presented with a request, from the first of: the `Authorization` header
/// value, the `Cookie` header values (when `cookie` accepts them), the `token` query
/// parameter.
pub fn presented<'a>(
    authorization: Option<&'a [u8]>,
    cookies: impl IntoIterator<Item = &'a [u8]>,
    query: &'a [(String, String)],
    cookie: Cookie,
) -> Option<&'a str> {
    authorization
        .and_then(bearer)
        .or_else(|| match cookie {
            Cookie::Accepted => cookies
                .into_iter()
                .find_map(|value| cookie_value(value, COOKIE)),
            Cookie::Ignored => None,
        })
        .or_else(|| {
            query
                .iter()
                .rev()
                .find(|(key, value)| key == "token" && !value.is_empty())
                .map(|(_, value)| value.as_str())
        })
}

/// [`presented`] over a request's headers, for handlers inside axum.
pub fn presented_in<'a>(
    headers: &'a HeaderMap,
    query: &'a [(String, String)],
    cookie: Cookie,
) -> Option<&'a str> {
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let cookies = headers.get_all(header::COOKIE).iter().map(|v| v.as_bytes());
    presented(authorization, cookies, query, cookie)
}

/// The token of an `Authorization: Bearer <token>` value; the scheme in any case.
fn bearer(value: &[u8]) -> Option<&str> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The value of cookie `name` in one `Cookie` header value (`a=1; rt_token=x`).
fn cookie_value<'a>(header: &'a [u8], name: &str) -> Option<&'a str> {
    std::str::from_utf8(header)
        .ok()?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// A secret token (the `PUBLISH_TOKEN`), kept as its SHA-256 digest. A presented token
/// is hashed too and the two digests compared in constant time: the comparison always
/// covers 32 bytes, so neither how much of a guess was right nor how long the secret
/// is shows in the response time. Hashing takes a time that depends only on the
/// presented token's length, which its sender knows anyway.
#[derive(Clone)]
pub struct SecretToken([u8; 32]);

impl SecretToken {
    pub fn new(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    pub fn matches(&self, presented: &str) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        presented.ct_eq(&self.0).into()
    }
}

/// The key tokens are checked against. Its kind pins the one algorithm accepted.
#[derive(Clone)]
pub enum Key {
    /// `JWT_SECRET`: HS256, and `token` can sign with it.
    Secret(Box<[u8]>),
    /// `JWT_PUBLIC_KEY`: RS256, ES256 or EdDSA, by the key; only an issuer holding the
    /// private key can sign.
    Public {
        algorithm: Algorithm,
        key: DecodingKey,
    },
}

impl Key {
    /// `JWT_SECRET`, its bytes as they are.
    pub fn secret(bytes: impl Into<Box<[u8]>>) -> Result<Self, String> {
        let bytes = bytes.into();
        if bytes.len() < MIN_SECRET_LEN {
            return Err(format!(
                "JWT_SECRET is {} bytes long; it needs at least {MIN_SECRET_LEN} (random, such \
                 as the output of `openssl rand -hex 32`)",
                bytes.len()
            ));
        }
        Ok(Self::Secret(bytes))
    }

    /// `JWT_PUBLIC_KEY`: reads the PEM at `path` (an RSA, P-256 or Ed25519 public key).
    pub fn public_pem(path: &Path) -> Result<Self, String> {
        let pem = std::fs::read(path)
            .map_err(|e| format!("JWT_PUBLIC_KEY={}: cannot read it ({e})", path.display()))?;
        Self::from_pem(&pem).map_err(|e| format!("JWT_PUBLIC_KEY={}: {e}", path.display()))
    }

    /// A PEM public key, and the algorithm its kind pins.
    pub fn from_pem(pem: &[u8]) -> Result<Self, String> {
        // The crate would also take an RSA private key (this service must never hold
        // one) and certificates (whose first bit string is not always the key).
        let labelled = |label: &[u8]| pem.windows(label.len()).any(|window| window == label);
        if labelled(b"PRIVATE KEY-----") {
            return Err(
                "a private key; give the public half only (`openssl pkey -in KEY -pubout`)".into(),
            );
        }
        if labelled(b"CERTIFICATE-----") {
            return Err(
                "a certificate; give its public key (`openssl x509 -in CERT -pubkey -noout`)"
                    .into(),
            );
        }
        let (algorithm, key) = if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            (Algorithm::RS256, key)
        } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            // The uncompressed or compressed point of P-256 (32-byte coordinates);
            // P-384's and P-521's are longer, and ES256 cannot use them.
            let point = key.try_get_as_bytes().map(<[u8]>::len).unwrap_or(0);
            if point != 65 && point != 33 {
                return Err("an EC key on a curve other than P-256; ES256 needs P-256".into());
            }
            (Algorithm::ES256, key)
        } else if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            (Algorithm::EdDSA, key)
        } else {
            return Err(
                "not a PEM public key of RSA, P-256 or Ed25519 (`-----BEGIN PUBLIC KEY-----` \
                 or `-----BEGIN RSA PUBLIC KEY-----`)"
                    .into(),
            );
        };
        Ok(Self::Public { algorithm, key })
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Secret(_) => Algorithm::HS256,
            Self::Public { algorithm, .. } => *algorithm,
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key material.
        match self {
            Self::Secret(_) => f.write_str("Key::Secret(HS256)"),
            Self::Public { algorithm, .. } => write!(f, "Key::Public({algorithm:?})"),
        }
    }
}

/// The claims `<name> token` signs. `channels` and `publish` are left out when empty.
#[derive(Debug, Serialize)]
pub struct Claims {
    pub sub: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub publish: Vec<String>,
    /// Unix seconds.
    pub exp: u64,
    pub iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// The claims read from a verified token; `iss`, `aud` and `nbf` are checked by the
/// crate, anything else is ignored. The crate reads the claims before it checks that
/// the required ones are there: optional here, so that a missing one is named.
#[derive(Deserialize)]
struct Granted {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    publish: Vec<String>,
    /// A NumericDate may carry a fraction.
    #[serde(default)]
    exp: Option<serde_json::Number>,
}

/// The authentication settings, read by [`crate::config`].
pub struct Settings {
    pub mode: Mode,
    /// `JWT_SECRET` or `JWT_PUBLIC_KEY`, whichever is set.
    pub key: Option<Key>,
    /// `JWT_ISSUER`: when set, the `iss` claim must be present and equal.
    pub issuer: Option<String>,
    /// `JWT_AUDIENCE`: when set, the `aud` claim must be present and contain it.
    pub audience: Option<String>,
    pub publish_token: Option<String>,
}

/// Turns presented tokens into identities.
#[derive(Clone)]
pub struct Auth {
    mode: Mode,
    key: Option<(Key, DecodingKey)>,
    validation: Validation,
    issuer: Option<String>,
    audience: Option<String>,
    publish_token: Option<SecretToken>,
}

impl Auth {
    pub fn new(settings: Settings) -> Result<Self, String> {
        if settings.mode == Mode::Jwt && settings.key.is_none() {
            return Err(
                "AUTH_MODE=jwt needs a key to verify tokens: set JWT_SECRET (at least 32 \
                 random bytes, such as the output of `openssl rand -hex 32`; `rtgen new` \
                 wrote one for development to .env) or JWT_PUBLIC_KEY (the path to the \
                 PEM public key of your token issuer); or set AUTH_MODE=none to let \
                 anyone read any channel"
                    .into(),
            );
        }
        let key = settings.key.map(|key| {
            let decoding = match &key {
                // Non-empty: `Key::secret` refused shorter ones.
                Key::Secret(bytes) => DecodingKey::from_secret(bytes),
                Key::Public { key, .. } => Ok(key.clone()),
            };
            decoding.map(|decoding| (key, decoding))
        });
        let key = key
            .transpose()
            .map_err(|e| format!("JWT_SECRET cannot be used as a key: {e}"))?;
        let mut validation = Validation::new(
            key.as_ref()
                .map_or(Algorithm::HS256, |(k, _)| k.algorithm()),
        );
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &settings.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &settings.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            // Unset means unchecked: the crate would refuse every token with an `aud`.
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Ok(Self {
            mode: settings.mode,
            key,
            validation,
            issuer: settings.issuer,
            audience: settings.audience,
            publish_token: settings.publish_token.as_deref().map(SecretToken::new),
        })
    }

    /// The identity `presented` proves: `None` without a token, the 401 to give when a
    /// token that is not the `PUBLISH_TOKEN` does not verify. Take decisions with
    /// [`decide`], which gives that 401 only where a token is needed. With
    /// `AUTH_MODE=none` such tokens are not checked and prove nothing.
    pub fn identify(&self, presented: Option<&str>) -> Result<Option<Identity>, Refusal> {
        let Some(token) = presented else {
            return Ok(None);
        };
        if self
            .publish_token
            .as_ref()
            .is_some_and(|publish_token| publish_token.matches(token))
        {
            return Ok(Some(Identity::Server));
        }
        match self.mode {
            Mode::None => Ok(None),
            Mode::Jwt => self.verify(token).map(|user| Some(Identity::User(user))),
        }
    }

    /// Verifies a JWT: signature with the pinned algorithm, `exp` (required), `nbf`
    /// (when present), `iss` and `aud` (when configured), all with [`LEEWAY_SECS`].
    pub fn verify(&self, token: &str) -> Result<User, Refusal> {
        let unauthorized = |why: &str| Refusal::Unauthorized(format!("token refused: {why}"));
        let Some((key, decoding)) = &self.key else {
            return Err(unauthorized("no key is configured to verify tokens"));
        };
        // `alg: none` and unknown algorithms fail to parse as a header.
        if jsonwebtoken::decode_header(token).is_err() {
            return Err(unauthorized(
                "it is not a JWT signed with a supported algorithm (`alg: none` is refused)",
            ));
        }
        let data = jsonwebtoken::decode::<Granted>(token, decoding, &self.validation).map_err(
            |e| match e.kind() {
                ErrorKind::ExpiredSignature => unauthorized("it has expired"),
                ErrorKind::ImmatureSignature => unauthorized("it is not valid yet (`nbf`)"),
                ErrorKind::InvalidSignature => unauthorized("its signature does not verify"),
                ErrorKind::InvalidAlgorithm => unauthorized(&format!(
                    "its `alg` is not {:?}, the only one this service's key allows",
                    key.algorithm()
                )),
                ErrorKind::MissingRequiredClaim(claim) => {
                    unauthorized(&format!("it has no `{claim}` claim"))
                }
                ErrorKind::InvalidIssuer => unauthorized(&format!(
                    "its `iss` is not {:?} (JWT_ISSUER)",
                    self.issuer.as_deref().unwrap_or_default()
                )),
                ErrorKind::InvalidAudience => unauthorized(&format!(
                    "its `aud` is not {:?} (JWT_AUDIENCE)",
                    self.audience.as_deref().unwrap_or_default()
                )),
                ErrorKind::InvalidClaimFormat(claim) => {
                    unauthorized(&format!("its `{claim}` claim has the wrong type"))
                }
                ErrorKind::Json(_) => unauthorized(
                    "its claims do not have the expected types: `sub` a string, `channels` and \
                     `publish` lists of channel patterns",
                ),
                _ => unauthorized("it is not a well-formed JWT"),
            },
        )?;
        let claims = data.claims;
        // Present: the validation requires both.
        let (Some(sub), Some(exp)) = (claims.sub, claims.exp) else {
            return Err(unauthorized("it lacks `sub` or `exp`"));
        };
        let patterns = |name: &str, list: &[String]| {
            list.iter()
                .map(|pattern| Pattern::parse(pattern))
                .collect::<Result<Box<[Pattern]>, String>>()
                .map_err(|e| unauthorized(&format!("its `{name}` claim: {e}")))
        };
        Ok(User {
            channels: patterns("channels", &claims.channels)?,
            publish: patterns("publish", &claims.publish)?,
            expires: unix_seconds(&exp),
            sub: sub.into(),
        })
    }

    /// Signs `claims` with `JWT_SECRET`, for `<name> token`. `iss` and `aud` are
    /// those of `JWT_ISSUER` and `JWT_AUDIENCE`, so that the token verifies here.
    pub fn sign(&self, mut claims: Claims) -> Result<String, String> {
        let secret = match &self.key {
            Some((Key::Secret(secret), _)) => secret,
            Some((Key::Public { .. }, _)) => {
                return Err(
                    "JWT_PUBLIC_KEY is set: tokens for this service are signed by the \
                     issuer holding its private key, not here. Unset JWT_PUBLIC_KEY and \
                     set JWT_SECRET to mint development tokens"
                        .into(),
                );
            }
            None => {
                return Err(
                    "no JWT_SECRET to sign with: set it (at least 32 random bytes, such \
                     as the output of `openssl rand -hex 32`), or put it in .env"
                        .into(),
                );
            }
        };
        claims.iss.clone_from(&self.issuer);
        claims.aud.clone_from(&self.audience);
        let key = EncodingKey::from_secret(secret).map_err(|e| e.to_string())?;
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
            .map_err(|e| format!("cannot sign the token: {e}"))
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Neither the key nor the PUBLISH_TOKEN.
        f.debug_struct("Auth")
            .field("mode", &self.mode)
            .field("key", &self.key.as_ref().map(|(key, _)| key))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("publish_token", &self.publish_token.is_some())
            .finish()
    }
}

/// Takes the decision `rule` for the caller [`Auth::identify`] found. A token that
/// failed verification counts as none, so a public channel still opens (a stale cookie
/// must not lock a browser out of it); where the rule needs an identity, the 401 says
/// what was wrong with the token rather than that none was sent.
pub fn decide(
    caller: &Result<Option<Identity>, Refusal>,
    rule: impl FnOnce(Option<&Identity>) -> Decision,
) -> Decision {
    match caller {
        Ok(identity) => rule(identity.as_ref()),
        Err(refused) => rule(None).map_err(|_| refused.clone()),
    }
}

/// Seconds since the Unix epoch of a NumericDate, its fraction dropped; a negative or
/// absurd date is the epoch (the crate has already refused an expired one).
fn unix_seconds(date: &serde_json::Number) -> u64 {
    date.as_u64()
        .or_else(|| date.as_f64().filter(|s| *s >= 0.0).map(|s| s as u64))
        .unwrap_or(0)
}

/// Seconds since the Unix epoch now.
pub fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";
    /// A P-256 key pair made for these tests only (`openssl ecparam -name prime256v1`).
    const EC_PRIVATE: &str = include_str!("../tests/fixtures/ec-private.pem");
    const EC_PUBLIC: &str = include_str!("../tests/fixtures/ec-public.pem");
    /// Public keys of the other kinds (see tests/fixtures/README.md).
    const ED_PUBLIC: &str = include_str!("../tests/fixtures/ed25519-public.pem");
    const RSA_PUBLIC: &str = include_str!("../tests/fixtures/rsa-public.pem");
    const P384_PUBLIC: &str = include_str!("../tests/fixtures/p384-public.pem");

    fn settings(key: Option<Key>) -> Settings {
        Settings {
            mode: Mode::Jwt,
            key,
            issuer: None,
            audience: None,
            publish_token: Some("s3cret-publish".into()),
        }
    }

    fn with_secret() -> Auth {
        Auth::new(settings(Some(Key::secret(SECRET).unwrap()))).unwrap()
    }

    fn claims(exp: i64) -> serde_json::Value {
        serde_json::json!({ "sub": "42", "channels": ["room:*"], "exp": now() as i64 + exp })
    }

    fn sign(alg: Algorithm, key: &EncodingKey, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, key).unwrap()
    }

    fn hs256(claims: &serde_json::Value) -> String {
        sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(SECRET).unwrap(),
            claims,
        )
    }

    fn refusal(auth: &Auth, token: &str) -> String {
        match auth.identify(Some(token)) {
            Err(Refusal::Unauthorized(message)) => message,
            other => panic!("expected a 401, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_token_proves_its_user() {
        let auth = with_secret();
        let Some(Identity::User(user)) = auth.identify(Some(&hs256(&claims(600)))).unwrap() else {
            panic!("a user");
        };
        assert_eq!(&*user.sub, "42");
        assert_eq!(format!("{:?}", user.channels), "[room:*]");
        assert!(user.publish.is_empty());
        assert!(user.expires > now());
        assert_eq!(auth.identify(None), Ok(None));
    }

    #[test]
    fn expiry_allows_exactly_thirty_seconds_of_skew() {
        let auth = with_secret();
        assert!(auth.identify(Some(&hs256(&claims(-20)))).is_ok());
        let message = refusal(&auth, &hs256(&claims(-40)));
        assert!(message.contains("expired"), "{message}");
        let mut no_exp = claims(0);
        no_exp.as_object_mut().unwrap().remove("exp");
        let message = refusal(&auth, &hs256(&no_exp));
        assert!(message.contains("`exp`"), "{message}");
    }

    #[test]
    fn not_before_is_checked_when_present() {
        let auth = with_secret();
        let mut early = claims(600);
        early["nbf"] = (now() + 40).into();
        let message = refusal(&auth, &hs256(&early));
        assert!(message.contains("nbf"), "{message}");
        early["nbf"] = (now() + 20).into();
        assert!(auth.identify(Some(&hs256(&early))).is_ok());
    }

    #[test]
    fn alg_none_and_bad_signatures_are_refused() {
        let auth = with_secret();
        let token = hs256(&claims(600));
        let payload = token.split('.').nth(1).unwrap();
        // {"alg":"none","typ":"JWT"}, unsigned.
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(refusal(&auth, &none).contains("alg: none"));
        // Another payload under the first token's signature.
        let signature = token.rsplit('.').next().unwrap();
        let other = hs256(&claims(9999));
        let (other_head, _) = other.rsplit_once('.').unwrap();
        let forged = format!("{other_head}.{signature}");
        assert!(refusal(&auth, &forged).contains("signature"));
        let other_secret = EncodingKey::from_secret(&[7; 32]).unwrap();
        let foreign = sign(Algorithm::HS256, &other_secret, &claims(600));
        assert!(refusal(&auth, &foreign).contains("signature"));
        assert!(refusal(&auth, "not-a-jwt").contains("not a JWT"));
        let mut wrong_type = claims(600);
        wrong_type["channels"] = "room:*".into();
        assert!(refusal(&auth, &hs256(&wrong_type)).contains("lists of channel patterns"));
        let mut no_sub = claims(600);
        no_sub.as_object_mut().unwrap().remove("sub");
        assert!(refusal(&auth, &hs256(&no_sub)).contains("`sub`"));
        // HS384 is HMAC too, but not the pinned algorithm.
        let hs384 = sign(
            Algorithm::HS384,
            &EncodingKey::from_secret(SECRET).unwrap(),
            &claims(600),
        );
        assert!(refusal(&auth, &hs384).contains("`alg`"));
    }

    #[test]
    fn a_public_key_pins_its_algorithm() {
        let key = Key::from_pem(EC_PUBLIC.as_bytes()).unwrap();
        assert_eq!(key.algorithm(), Algorithm::ES256);
        let auth = Auth::new(settings(Some(key))).unwrap();
        let private = EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap();
        assert!(
            auth.identify(Some(&sign(Algorithm::ES256, &private, &claims(600))))
                .is_ok()
        );
        // The classic confusion: an HS256 token "signed" with the public key's bytes.
        let confused = EncodingKey::from_secret(EC_PUBLIC.as_bytes()).unwrap();
        let token = sign(Algorithm::HS256, &confused, &claims(600));
        assert!(refusal(&auth, &token).contains("`alg`"));
        assert!(refusal(&auth, &hs256(&claims(600))).contains("`alg`"));
        let ed = Key::from_pem(ED_PUBLIC.as_bytes()).unwrap();
        assert_eq!(ed.algorithm(), Algorithm::EdDSA);
        let rsa = Key::from_pem(RSA_PUBLIC.as_bytes()).unwrap();
        assert_eq!(rsa.algorithm(), Algorithm::RS256);
        let p384 = Key::from_pem(P384_PUBLIC.as_bytes()).unwrap_err();
        assert!(p384.contains("P-256"), "{p384}");
        let private = Key::from_pem(EC_PRIVATE.as_bytes()).unwrap_err();
        assert!(private.contains("public half"), "{private}");
        assert!(
            Key::from_pem(b"-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n").is_err()
        );
    }

    #[test]
    fn issuer_and_audience_are_required_only_when_configured() {
        let mut strict = settings(Some(Key::secret(SECRET).unwrap()));
        strict.issuer = Some("https://issuer.example".into());
        strict.audience = Some("rt".into());
        let strict = Auth::new(strict).unwrap();
        let lax = with_secret();
        let mut token = claims(600);
        token["aud"] = "rt".into();
        assert!(refusal(&strict, &hs256(&token)).contains("`iss`"));
        token["iss"] = "https://issuer.example".into();
        token.as_object_mut().unwrap().remove("aud");
        assert!(refusal(&strict, &hs256(&token)).contains("`aud`"));
        token["aud"] = "other".into();
        assert!(refusal(&strict, &hs256(&token)).contains("JWT_AUDIENCE"));
        token["aud"] = serde_json::json!(["other", "rt"]);
        assert!(strict.identify(Some(&hs256(&token))).is_ok());
        token["iss"] = "https://elsewhere.example".into();
        assert!(refusal(&strict, &hs256(&token)).contains("JWT_ISSUER"));
        // Unset: neither claim is checked, whatever it says.
        assert!(lax.identify(Some(&hs256(&token))).is_ok());
    }

    #[test]
    fn the_publish_token_must_match_exactly() {
        let auth = with_secret();
        assert_eq!(
            auth.identify(Some("s3cret-publish")),
            Ok(Some(Identity::Server))
        );
        let secret = SecretToken::new("s3cret-publish");
        assert!(secret.matches("s3cret-publish"));
        for wrong in ["s3cret-publis", "s3cret-publish!", "S3cret-publish", ""] {
            assert!(!secret.matches(wrong), "{wrong:?}");
            assert!(auth.identify(Some(wrong)).is_err(), "{wrong:?}");
        }
        // Without authorization other tokens prove nothing, and refuse nothing.
        let mut none = settings(None);
        none.mode = Mode::None;
        let none = Auth::new(none).unwrap();
        assert_eq!(
            none.identify(Some("s3cret-publish")),
            Ok(Some(Identity::Server))
        );
        assert_eq!(none.identify(Some(&hs256(&claims(600)))), Ok(None));
    }

    #[test]
    fn keys_are_checked_at_start() {
        let short = Key::secret(&b"too short"[..]).unwrap_err();
        assert!(short.contains("at least 32"), "{short}");
        let missing = Auth::new(settings(None)).unwrap_err();
        assert!(missing.contains("JWT_SECRET") && missing.contains("JWT_PUBLIC_KEY"));
        let no_file = Key::public_pem(Path::new("/nonexistent/key.pem")).unwrap_err();
        assert!(no_file.contains("/nonexistent/key.pem"), "{no_file}");
    }

    #[test]
    fn patterns_in_claims_are_validated() {
        let mut token = claims(600);
        token["publish"] = serde_json::json!(["room:*", "a*b"]);
        let message = refusal(&with_secret(), &hs256(&token));
        assert!(
            message.contains("`publish`") && message.contains("a*b"),
            "{message}"
        );
    }

    #[test]
    fn signing_needs_the_secret() {
        let claims = || Claims {
            sub: "42".into(),
            channels: vec!["room:*".into()],
            publish: Vec::new(),
            exp: now() + 60,
            iat: now(),
            iss: None,
            aud: None,
        };
        let mut strict = settings(Some(Key::secret(SECRET).unwrap()));
        strict.issuer = Some("me".into());
        strict.audience = Some("rt".into());
        let strict = Auth::new(strict).unwrap();
        let user = strict.verify(&strict.sign(claims()).unwrap()).unwrap();
        assert_eq!(format!("{:?}", user.channels), "[room:*]");
        let public_key = Key::from_pem(EC_PUBLIC.as_bytes()).unwrap();
        let public = Auth::new(settings(Some(public_key))).unwrap();
        assert!(
            public
                .sign(claims())
                .unwrap_err()
                .contains("JWT_PUBLIC_KEY")
        );
    }

    #[test]
    fn a_failed_token_counts_as_none_and_explains_refusals() {
        use crate::channel::ChannelName;
        use crate::policy::Policy;
        let policy = Policy {
            mode: Mode::Jwt,
            public: Pattern::parse_list("news").unwrap(),
            publish_token_set: false,
        };
        let auth = with_secret();
        let expired = auth.identify(Some(&hs256(&claims(-60))));
        let news = [ChannelName::parse("news").unwrap()];
        let private = [
            ChannelName::parse("news").unwrap(),
            ChannelName::parse("room:1").unwrap(),
        ];
        assert_eq!(
            decide(&expired, |who| policy.may_subscribe_all(&news, who)),
            Ok(())
        );
        let refusal = decide(&expired, |who| policy.may_subscribe_all(&private, who)).unwrap_err();
        assert!(refusal.message().contains("expired"), "{refusal:?}");
        let valid = auth.identify(Some(&hs256(&claims(600))));
        assert_eq!(
            decide(&valid, |who| policy.may_subscribe_all(&private, who)),
            Ok(())
        );
        let refusal = decide(&valid, |who| policy.may_publish(&news[0], who)).unwrap_err();
        assert_eq!(refusal.code(), "forbidden");
    }

    #[test]
    fn the_token_is_found_where_the_path_allows() {
        let query = vec![("token".to_owned(), "from-query".to_owned())];
        let cookies: [&[u8]; 2] = [b"theme=dark", b"a=1; rt_token=from-cookie; b=2"];
        let header = Some(&b"bEaReR   from-header"[..]);
        assert_eq!(
            presented(header, cookies, &query, Cookie::Accepted),
            Some("from-header")
        );
        assert_eq!(
            presented(Some(b"Basic xyz"), cookies, &query, Cookie::Accepted),
            Some("from-cookie")
        );
        assert_eq!(
            presented(None, cookies, &query, Cookie::Ignored),
            Some("from-query")
        );
        assert_eq!(presented(Some(b"Bearer "), [], &[], Cookie::Accepted), None);
        assert_eq!(
            presented(
                None,
                [&b"rt_token_x=1; xrt_token=2"[..]],
                &[],
                Cookie::Accepted
            ),
            None
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "rt_token=\"quoted\"".parse().unwrap());
        assert_eq!(
            presented_in(&headers, &[], Cookie::Accepted),
            Some("quoted")
        );
        assert_eq!(presented_in(&headers, &[], Cookie::Ignored), None);
    }
}
