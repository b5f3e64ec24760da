using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Mesh.Protocol.Security;

/// <summary>
/// Makes the certificates of a fleet: one certificate authority (the fleet CA) and node
/// certificates it signs. A node accepts a peer whose certificate chains to the fleet CA, so
/// the CA is the only thing every node has to agree on. Keys are ECDSA P-256.
/// </summary>
public static class FleetCertificates
{
    public static readonly TimeSpan AuthorityValidity = TimeSpan.FromDays(3650);
    public static readonly TimeSpan NodeValidity = TimeSpan.FromDays(730);

    // A clock a few minutes behind on a peer must not make a certificate issued just now "not yet valid".
    private static readonly TimeSpan Backdate = TimeSpan.FromMinutes(10);

    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    /// <summary>A self-signed CA certificate with its private key; it may sign node certificates only (path length 0).</summary>
    public static X509Certificate2 CreateAuthority(string name, TimeSpan validity, DateTimeOffset? now = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(CommonName(name), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var from = (now ?? DateTimeOffset.UtcNow) - Backdate;
        return request.CreateSelfSigned(from, from + validity);
    }

    /// <summary>
    /// A node certificate signed by <paramref name="authority"/> (which must hold its private
    /// key): subject CN=<paramref name="name"/>, usable as TLS server and client (a node is
    /// both), with <paramref name="hosts"/> (IP addresses or DNS names) as subject alternative
    /// names. It never outlives the authority.
    /// </summary>
    public static X509Certificate2 IssueNode(X509Certificate2 authority, string name, IEnumerable<string> hosts, TimeSpan validity, DateTimeOffset? now = null)
    {
        if (!authority.HasPrivateKey) throw new ArgumentException("the CA certificate has no private key to sign with");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(CommonName(name), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuth), new Oid(ClientAuth)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        var alternative = new SubjectAlternativeNameBuilder();
        var any = false;
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var address)) alternative.AddIpAddress(address);
            else alternative.AddDnsName(host);
            any = true;
        }
        if (any) request.CertificateExtensions.Add(alternative.Build());

        var from = (now ?? DateTimeOffset.UtcNow) - Backdate;
        if (from < authority.NotBefore) from = authority.NotBefore;
        var until = from + validity;
        if (until > authority.NotAfter) until = authority.NotAfter;
        if (until <= from) throw new ArgumentException($"the CA certificate expired on {authority.NotAfter:yyyy-MM-dd}");

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f; // a positive serial number, as RFC 5280 asks
        using var issued = request.Create(authority, from, until, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>The certificate as PEM text (what goes into a .crt file).</summary>
    public static string CertificatePem(X509Certificate2 certificate) => certificate.ExportCertificatePem() + "\n";

    /// <summary>The private key as unencrypted PKCS#8 PEM text (what goes into a .key file, mode 0600).</summary>
    public static string PrivateKeyPem(X509Certificate2 certificate)
    {
        using var key = certificate.GetECDsaPrivateKey() ?? throw new ArgumentException("the certificate has no ECDSA private key");
        return key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    /// <summary>The SHA-256 fingerprint as upper-case hex: what <c>mesh.tls.revoked</c> lists.</summary>
    public static string Fingerprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>A fingerprint as written by hand (any case, with or without ':' or spaces) in the form <see cref="Fingerprint"/> gives.</summary>
    public static string NormalizeFingerprint(string text) =>
        new string(text.Where(c => c != ':' && !char.IsWhiteSpace(c)).ToArray()).ToUpperInvariant();

    private static X500DistinguishedName CommonName(string name)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(name);
        return builder.Build();
    }
}
