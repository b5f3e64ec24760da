using Mesh.Node.Api;
using Mesh.Node.Content;
using Mesh.Node.Operations;
using Mesh.Node.Replication;
using Mesh.Protocol.Manifests;
using Microsoft.AspNetCore.Http;

namespace Mesh.Node.Tests.Api;

/// <summary>One cause, one status, on every route: the control API's single error mapping.</summary>
public class ApiErrorsTests
{
    public static TheoryData<Exception, int> Causes => new()
    {
        { new ManifestException([new ManifestError("web.yaml", 3, 5, "mode", "not an octal mode")]), 422 },
        { new BadHttpRequestException("request body is not a push: 'manifests' is missing", 400), 400 },
        { new BadHttpRequestException("too large", 413), 413 },
        { new PushDeniedException(["web: unsigned"]), 403 },
        { new NoSuchMemberException("no active member named 'ghost'"), 404 },
        { new PushConflictException(["web: the head is now ..."]), 409 },
        { new ArgumentException("'1795' matches 2 revisions of web"), 400 },
        { new StoreUnavailableException("the node's replicated store did not answer within 5s"), 503 },
        { new BlobUnavailableException(new string('a', 64), [new PeerFailure(new Akka.Actor.Address("akka.tcp", "mesh", "b", 4710), FetchFailure.Silent, "did not answer within 5s at byte 0")]), 503 },
        { new Akka.Actor.AskTimeoutException("timeout"), 503 },
        { new SilentMembersException(["b", "c"]), 504 },
    };

    [Theory]
    [MemberData(nameof(Causes))]
    public void Each_cause_has_one_status_and_an_error_that_says_what(Exception cause, int status)
    {
        var (mapped, error) = ApiErrors.Map(cause) ?? throw new Xunit.Sdk.XunitException($"{cause.GetType().Name} is not mapped");
        Assert.Equal(status, mapped);
        Assert.False(string.IsNullOrWhiteSpace(error.Error));
    }

    [Fact]
    public void A_silent_member_is_named()
    {
        var (_, error) = ApiErrors.Map(new SilentMembersException(["b", "c"]))!.Value;
        Assert.Contains("b, c", error.Error);
    }

    [Fact]
    public void Manifest_errors_keep_every_location()
    {
        var (_, error) = ApiErrors.Map(new ManifestException([new ManifestError("a.yaml", 1, 2, "x", "bad"), new ManifestError("b.yaml", 3, 4, "y", "worse")]))!.Value;
        Assert.Equal(["a.yaml", "b.yaml"], error.Details!.Select(d => d.Source));
    }

    [Fact]
    public void An_unexpected_failure_is_left_to_the_500_path()
    {
        Assert.Null(ApiErrors.Map(new InvalidOperationException("a bug")));
    }
}
