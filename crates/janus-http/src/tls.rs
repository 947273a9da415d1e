//! TLS on the listener (`--tls-cert` / `--tls-key`): rustls (ring, the provider the SMTP and
//! webhook clients already use), HTTP/1.1 only, with a certificate that is replaced while
//! serving. [`Tls::reload`] (SIGHUP) reads both files again; connections open keep the
//! certificate they started with, new ones get the new one, and files that do not load keep
//! the old certificate (the error says which file and why, never what is in it).

use anyhow::Context;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// How long a client may take to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A server certificate and key from PEM files, reloadable.
pub struct Tls {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<rustls::crypto::CryptoProvider>,
    current: Arc<Current>,
    config: Arc<rustls::ServerConfig>,
}

/// The certificate new handshakes get.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

impl Tls {
    /// Load the certificate chain at `cert` and the private key at `key` (PEM; PKCS#8, PKCS#1
    /// or SEC1), checked to belong together.
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let current = Arc::new(Current(RwLock::new(Arc::new(certified_key(&provider, cert, key)?))));
        let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self { cert: cert.into(), key: key.into(), provider, current, config: Arc::new(config) })
    }

    /// Read the files again and serve what they hold from the next handshake on; on an error
    /// the certificate served stays the one before.
    pub fn reload(&self) -> anyhow::Result<()> {
        let fresh = certified_key(&self.provider, &self.cert, &self.key)?;
        *self.current.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }

    /// An acceptor for new connections.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config.clone())
    }
}

fn certified_key(provider: &rustls::crypto::CryptoProvider, cert: &Path, key: &Path) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("{}: not a PEM certificate chain ({e})", cert.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{}: no certificate in the file", cert.display());
    let der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| anyhow::anyhow!("{}: not a PEM private key ({e})", key.display()))?;
    CertifiedKey::from_der(chain, der, provider).map_err(|e| {
        anyhow::anyhow!("{} and {}: the key does not fit the certificate ({e})", cert.display(), key.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_that_are_not_pem_are_refused_naming_the_file_and_not_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert, "s3cret-not-a-cert").unwrap();
        std::fs::write(&key, "s3cret-not-a-key").unwrap();
        let err = format!("{:#}", Tls::load(&cert, &key).err().expect("refused"));
        assert!(err.contains("cert.pem"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        let missing = format!("{:#}", Tls::load(&dir.path().join("nope.pem"), &key).err().expect("refused"));
        assert!(missing.contains("nope.pem"), "{missing}");
    }
}
