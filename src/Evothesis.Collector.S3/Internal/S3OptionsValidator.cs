using Evothesis.Collector.Sinks.ObjectStorage.Internal;
using Microsoft.Extensions.Options;

namespace Evothesis.Collector.Sinks.S3.Internal;

/// <summary>Checks the S3 settings at start; messages name the key, its alias and the bad value.</summary>
internal sealed class S3OptionsValidator(IEnumerable<S3SinkRequested> requested) : IValidateOptions<S3Options>
{
    private readonly bool _requested = requested.Any();

    public ValidateOptionsResult Validate(string? name, S3Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var s3 = options;
        var failures = new List<string>();

        CheckBucket(failures, "Evothesis:S3:ClientBucket (CLIENT_S3_BUCKET)", s3.ClientBucket);
        CheckBucket(failures, "Evothesis:S3:BackupBucket (BACKUP_S3_BUCKET)", s3.BackupBucket);

        if (!string.IsNullOrWhiteSpace(s3.ServiceUrl)
            && !(Uri.TryCreate(s3.ServiceUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)))
        {
            failures.Add($"Evothesis:S3:ServiceUrl (AWS_ENDPOINT_URL_S3) '{s3.ServiceUrl}' must be an absolute http or https URL.");
        }

        if (s3.PartSize is < S3Options.MinimumPartSize or > S3Options.MaximumPartSize)
        {
            failures.Add($"Evothesis:S3:PartSize ({s3.PartSize}) must be between {S3Options.MinimumPartSize} (5 MiB) and {S3Options.MaximumPartSize} (5 GiB): S3 refuses other part sizes.");
        }

        if (s3.MultipartThreshold < s3.PartSize || s3.MultipartThreshold > S3Options.MaximumPartSize)
        {
            failures.Add($"Evothesis:S3:MultipartThreshold ({s3.MultipartThreshold}) must be at least Evothesis:S3:PartSize ({s3.PartSize}) and at most {S3Options.MaximumPartSize} (5 GiB, the largest single upload).");
        }

        if (s3.MaxConcurrentUploads is < 1 or > 64)
        {
            failures.Add($"Evothesis:S3:MaxConcurrentUploads ({s3.MaxConcurrentUploads}) must be between 1 and 64.");
        }

        ObjectLimits.AddFailures(failures, "Evothesis:S3", S3Buckets.Of(s3));

        if (!string.IsNullOrWhiteSpace(s3.ClientBucket)
            && string.Equals(s3.ClientBucket, s3.BackupBucket, StringComparison.Ordinal)
            && ObjectKeyLayout.NormalizePrefix(s3.Prefix) == ObjectKeyLayout.NormalizePrefix(s3.BackupPrefix))
        {
            failures.Add(
                $"Evothesis:S3:ClientBucket and Evothesis:S3:BackupBucket are both '{s3.ClientBucket}' with the same prefix: the backup would " +
                "overwrite the client objects instead of copying them. Use another bucket, or set Evothesis:S3:BackupPrefix.");
        }

        if (_requested && string.IsNullOrWhiteSpace(s3.ClientBucket) && string.IsNullOrWhiteSpace(s3.BackupBucket))
        {
            failures.Add(
                "AddS3Sink() was called but no bucket is configured: set Evothesis:S3:ClientBucket (or CLIENT_S3_BUCKET) and/or " +
                "Evothesis:S3:BackupBucket (or BACKUP_S3_BUCKET).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // S3's rules, loose enough for S3-compatible stores: no path separators, no spaces, 3 to 63 characters.
    private static void CheckBucket(List<string> failures, string key, string? bucket)
    {
        if (string.IsNullOrWhiteSpace(bucket))
        {
            return;
        }

        if (bucket.Length is < 3 or > 63 || bucket.AsSpan().ContainsAny("/\\ ?#"))
        {
            failures.Add($"{key} '{bucket}' is not a bucket name: 3 to 63 characters without '/', spaces, '?' or '#'.");
        }
    }
}

/// <summary>Marks that <c>AddS3Sink()</c> was called, so a missing bucket is a start-up error rather than silence.</summary>
internal sealed class S3SinkRequested;
