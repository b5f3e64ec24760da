using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Mesh.Protocol.Secrets;

/// <summary>
/// Seals one secret value for a set of nodes and opens it again with one node's private key.
/// The sealed form, an envelope, is text: <c>mesh-sealed:v1:</c> and the base64url of
/// <code>
/// version (1) | recipient count (2, big-endian)
/// per recipient: key id (8) | ephemeral P-256 public point (65) | wrapped content key (32 + 16 tag)
/// ciphertext of the value | tag (16)
/// </code>
/// The value is encrypted once with AES-256-GCM under a fresh random content key; that key is
/// wrapped for each recipient with its own ephemeral ECDH P-256 agreement, HKDF-SHA256 (salted
/// with the ephemeral point and the recipient's public key) and AES-256-GCM. Every key is used
/// exactly once, so the nonces are zero. Both layers authenticate the <c>context</c> (the
/// manifest's name): an envelope copied into another manifest does not open.
/// </summary>
public static class SecretBox
{
    public const string Prefix = "mesh-sealed:v1:";

    private const byte Version = 1;
    private const int KeyIdSize = 8;
    private const int PointSize = 65;
    private const int KeySize = 32;
    private const int TagSize = 16;
    private const int SlotSize = KeyIdSize + PointSize + KeySize + TagSize;
    private const int HeaderSize = 3;

    private static readonly byte[] WrapInfo = "mesh-sealed/v1 wrap"u8.ToArray();
    private static readonly byte[] ZeroNonce = new byte[12];
    /// <summary>The object identifier of the NIST P-256 curve, the only one Mesh keys use.</summary>
    public const string P256Oid = "1.2.840.10045.3.1.7";

    /// <summary>True when the text is an envelope (it may still be malformed: see <see cref="Problem"/>).</summary>
    public static bool IsEnvelope(string? value) => value is not null && value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The short id a recipient's slot is found by: the first 8 bytes of SHA-256 of its public key (SubjectPublicKeyInfo).</summary>
    public static byte[] KeyId(ReadOnlySpan<byte> publicKey) => SHA256.HashData(publicKey)[..KeyIdSize];

    /// <summary>A key id as people read it (hex).</summary>
    public static string KeyIdText(ReadOnlySpan<byte> publicKey) => Convert.ToHexStringLower(KeyId(publicKey));

    /// <summary>Encrypts <paramref name="plaintext"/> so that each holder of one of the <paramref name="recipients"/>' private keys can open it.</summary>
    /// <param name="recipients">public keys, DER SubjectPublicKeyInfo of P-256 keys</param>
    /// <exception cref="ArgumentException">no recipient, or a key that is not a P-256 public key</exception>
    public static string Seal(ReadOnlySpan<byte> plaintext, IReadOnlyCollection<byte[]> recipients, string context)
    {
        if (recipients.Count == 0) throw new ArgumentException("a secret needs at least one recipient", nameof(recipients));
        if (recipients.Count > ushort.MaxValue) throw new ArgumentException("too many recipients", nameof(recipients));
        var aad = Aad(context);
        var contentKey = RandomNumberGenerator.GetBytes(KeySize);
        var envelope = new byte[HeaderSize + recipients.Count * SlotSize + plaintext.Length + TagSize];
        envelope[0] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(envelope.AsSpan(1), (ushort)recipients.Count);
        try
        {
            var slot = envelope.AsSpan(HeaderSize);
            foreach (var recipient in recipients)
            {
                using var recipientKey = ImportPublicKey(recipient);
                using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
                var point = Point(ephemeral);
                var kek = WrapKey(ephemeral, recipientKey, point, recipient);
                KeyId(recipient).CopyTo(slot);
                point.CopyTo(slot[KeyIdSize..]);
                using (var wrap = new AesGcm(kek, TagSize))
                    wrap.Encrypt(ZeroNonce, contentKey, slot.Slice(KeyIdSize + PointSize, KeySize), slot.Slice(KeyIdSize + PointSize + KeySize, TagSize), aad);
                CryptographicOperations.ZeroMemory(kek);
                slot = slot[SlotSize..];
            }
            using var content = new AesGcm(contentKey, TagSize);
            content.Encrypt(ZeroNonce, plaintext, slot[..plaintext.Length], slot.Slice(plaintext.Length, TagSize), aad);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
        return Prefix + Base64Url.EncodeToString(envelope);
    }

    /// <summary>Opens an envelope with a recipient's private key.</summary>
    /// <exception cref="SecretException">malformed, not sealed for this key, sealed for another context, or altered</exception>
    public static byte[] Open(string envelope, ECDiffieHellman privateKey, string context)
    {
        var bytes = Decode(envelope, out var problem) ?? throw new SecretException(SecretFailure.Malformed, $"not a sealed value: {problem}");
        var publicKey = privateKey.ExportSubjectPublicKeyInfo();
        var id = KeyId(publicKey);
        var count = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(1));
        var aad = Aad(context);
        var addressed = false;
        for (var i = 0; i < count; i++)
        {
            var slot = bytes.AsSpan(HeaderSize + i * SlotSize, SlotSize);
            if (!slot[..KeyIdSize].SequenceEqual(id)) continue;
            addressed = true;
            var point = slot.Slice(KeyIdSize, PointSize).ToArray();
            var contentKey = new byte[KeySize];
            try
            {
                using var ephemeral = ImportPoint(point);
                var kek = WrapKey(privateKey, ephemeral, point, publicKey);
                using (var wrap = new AesGcm(kek, TagSize))
                    wrap.Decrypt(ZeroNonce, slot.Slice(KeyIdSize + PointSize, KeySize), slot.Slice(KeyIdSize + PointSize + KeySize, TagSize), contentKey, aad);
                CryptographicOperations.ZeroMemory(kek);
            }
            catch (CryptographicException)
            {
                continue; // a key id collision, or an altered slot: another slot may still be ours
            }

            var body = bytes.AsSpan(HeaderSize + count * SlotSize);
            var plaintext = new byte[body.Length - TagSize];
            try
            {
                using var content = new AesGcm(contentKey, TagSize);
                content.Decrypt(ZeroNonce, body[..^TagSize], body[^TagSize..], plaintext, aad);
                return plaintext;
            }
            catch (CryptographicException)
            {
                throw new SecretException(SecretFailure.Damaged, "the sealed value was altered, or sealed for another manifest");
            }
            finally
            {
                CryptographicOperations.ZeroMemory(contentKey);
            }
        }
        throw addressed
            ? new SecretException(SecretFailure.Damaged, "the sealed value was altered, or sealed for another manifest")
            : new SecretException(SecretFailure.NotARecipient,
                $"key {Convert.ToHexStringLower(id)} is not among its recipients ({string.Join(", ", RecipientIds(bytes))})");
    }

    /// <summary>Why the text is not a well-formed envelope, or null when it is.</summary>
    public static string? Problem(string envelope)
    {
        Decode(envelope, out var problem);
        return problem;
    }

    /// <summary>The key ids (hex) an envelope is sealed for; empty when it is malformed.</summary>
    public static IReadOnlyList<string> Recipients(string envelope) =>
        Decode(envelope, out _) is { } bytes ? RecipientIds(bytes) : [];

    private static List<string> RecipientIds(byte[] bytes)
    {
        var count = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(1));
        return Enumerable.Range(0, count)
            .Select(i => Convert.ToHexStringLower(bytes.AsSpan(HeaderSize + i * SlotSize, KeyIdSize)))
            .ToList();
    }

    private static byte[]? Decode(string envelope, out string? problem)
    {
        problem = null;
        if (!IsEnvelope(envelope))
        {
            problem = $"does not begin with '{Prefix}'";
            return null;
        }
        var text = envelope.AsSpan(Prefix.Length);
        if (!Base64Url.IsValid(text, out var length))
        {
            problem = "is not base64url after the prefix";
            return null;
        }
        var bytes = new byte[length];
        Base64Url.DecodeFromChars(text, bytes);
        if (bytes.Length < HeaderSize || bytes[0] != Version)
        {
            problem = bytes.Length == 0 ? "is empty" : $"has format version {bytes[0]}, this node reads version {Version}";
            return null;
        }
        var count = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(1));
        if (count == 0 || bytes.Length < HeaderSize + count * SlotSize + TagSize)
        {
            problem = "is cut short";
            return null;
        }
        return bytes;
    }

    private static byte[] Aad(string context) => Encoding.UTF8.GetBytes("mesh-sealed/v1\0" + context);

    /// <summary>The key that wraps the content key for one recipient, from one ECDH agreement.</summary>
    private static byte[] WrapKey(ECDiffieHellman own, ECDiffieHellman other, byte[] ephemeralPoint, byte[] recipientKey)
    {
        var shared = own.DeriveRawSecretAgreement(other.PublicKey);
        try
        {
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, KeySize, [.. ephemeralPoint, .. recipientKey], WrapInfo);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>A recipient's public key, refused unless it is P-256.</summary>
    public static ECDiffieHellman ImportPublicKey(byte[] subjectPublicKeyInfo)
    {
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out var read);
            if (read != subjectPublicKeyInfo.Length || key.ExportParameters(false).Curve.Oid.Value != P256Oid)
                throw new ArgumentException("not a P-256 public key");
            return key;
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new ArgumentException($"not a P-256 public key: {e.Message}");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static byte[] Point(ECDiffieHellman key)
    {
        var q = key.ExportParameters(false).Q;
        return [0x04, .. q.X!, .. q.Y!];
    }

    private static ECDiffieHellman ImportPoint(byte[] point)
    {
        if (point[0] != 0x04) throw new CryptographicException("not an uncompressed point");
        // Importing checks that the point is on the curve.
        return ECDiffieHellman.Create(new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = point[1..33], Y = point[33..65] },
        });
    }
}

/// <summary>Why a sealed value did not open: not an envelope, not for this key, altered (or moved), or invalid once opened.</summary>
public enum SecretFailure { Malformed, NotARecipient, Damaged, Invalid }

/// <summary>A sealed value that cannot be opened; <see cref="Failure"/> says why.</summary>
public sealed class SecretException(SecretFailure failure, string message) : Exception(message)
{
    public SecretFailure Failure { get; } = failure;
}
