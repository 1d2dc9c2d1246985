//! Message texts by key. English only for now; the key structure matches ZITADEL's i18n files so
//! that more languages can be added as further tables.

/// English text for a message key; unknown keys fall back to the key itself.
pub fn english(key: &str) -> &str {
    match key {
        "Errors.Internal" => "Internal error",
        "Errors.Invalid.Argument" => "Invalid argument",
        "Errors.Request.Body.Invalid" => "The request body is not valid JSON for this message",
        "Errors.Request.Body.TooLarge" => "The request body is too large",
        "Errors.Request.Body.Unread" => "The request body could not be read",
        "Errors.Request.Route.NotFound" => "No API route matches this path",
        "Errors.Request.Method.NotAllowed" => "This HTTP method is not allowed on this path",
        "Errors.Request.Grpc.NeedsHttp2" => "This gRPC request came over HTTP/1",
        "Errors.Request.Message.Invalid" => "The request message cannot be decoded",
        "Errors.Request.Param.Invalid" => "A path or query parameter is invalid",
        "Errors.Query.LimitExceeded" => "The query limit is too high",
        "Errors.Query.InvalidRequest" => "The query is invalid",
        "Errors.Token.Invalid" => "The token is invalid",
        "Errors.Token.Missing" => "The authorization header is missing",
        "Errors.Token.Expired" => "The token has expired",
        "Errors.Token.Permission.Denied" => "No matching permissions found",
        "Errors.User.NotActive" => "The user is not active",
        "Errors.IAM.NotFound" => "Instance not found",
        "Errors.Instance.NotFound" => "Instance not found",
        "Errors.Language.NotSupported" => "The language is not supported",
        "Errors.Instance.Domain.AlreadyExists" => "The domain already exists",
        "Errors.Instance.Domain.NotFound" => "The domain could not be found on the instance",
        "Errors.Instance.Domain.GeneratedNotRemovable" => "A generated domain cannot be removed",
        "Errors.Instance.Domain.PrimaryNotRemovable" => {
            "The primary domain cannot be removed; set another primary domain first"
        }
        "Errors.Instance.Name.Empty" => "The instance name is missing",
        "Errors.Key.Invalid" => "The key is invalid",
        "Errors.System.User.Unknown" => "The system user is not configured",
        "Errors.Org.NotFound" => "Organisation could not be found",
        "Errors.Org.AlreadyExists" => "Organisation name is already taken",
        "Errors.Org.IDAlreadyExists" => "An organisation with this id already exists",
        "Errors.Org.Invalid" => "Organisation is invalid",
        "Errors.Org.NotActive" => "Organisation is not active",
        "Errors.Org.NotInactive" => "Organisation is not deactivated",
        "Errors.Org.DefaultOrgNotDeletable" => "The default organisation cannot be removed",
        "Errors.Org.Domain.AlreadyExists" => "Domain already exists",
        "Errors.Org.Domain.NotFound" => "Domain could not be found",
        "Errors.Org.Domain.NotVerified" => "Domain is not verified",
        "Errors.Org.Domain.PrimaryNotDeletable" => "The primary domain cannot be removed",
        "Errors.Org.DomainAlreadyVerified" => "Domain is already verified",
        "Errors.Org.DomainVerificationTypeInvalid" => "The domain validation type is invalid",
        "Errors.Org.DomainVerificationMissing" => "Domain validation has not been started",
        "Errors.Org.DomainVerificationFailed" => "Domain validation failed",
        "Errors.Org.DomainVerificationTimeout" => "Domain validation timed out",
        "Errors.Org.DomainVerificationHTTPNotFound" => "The validation file could not be found",
        "Errors.Org.DomainVerificationHTTPNoMatch" => {
            "The validation file does not contain the token"
        }
        "Errors.Org.DomainVerificationTXTNotFound" => "The TXT record could not be found",
        "Errors.Org.DomainVerificationTXTNoMatch" => "The TXT record does not contain the token",
        "Errors.User.NotFound" => "User could not be found",
        "Errors.User.AlreadyExists" => "User already exists",
        "Errors.User.Machine.Key.AlreadyExists" => "Machine key already exists",
        "Errors.Import.Unsupported" => "This import or export option is not supported",
        "Errors.Import.Timeout" => "The import ran out of time",
        "Errors.User.UsernameNotChanged" => "Username not changed",
        "Errors.User.NotHuman" => "The user is not a human user",
        "Errors.User.NotMachine" => "The user is not a machine user",
        "Errors.User.AlreadyInactive" => "User is already deactivated",
        "Errors.User.NotInactive" => "User is not deactivated",
        "Errors.User.AlreadyLocked" => "User is already locked",
        "Errors.User.NotLocked" => "User is not locked",
        "Errors.User.ShouldBeActiveOrInitial" => "User is not active or initial",
        "Errors.User.Profile.NotChanged" => "Profile not changed",
        "Errors.User.Email.NotChanged" => "Email not changed",
        "Errors.User.Email.Invalid" => "Email is invalid",
        "Errors.User.Phone.NotChanged" => "Phone not changed",
        "Errors.User.Phone.Invalid" => "Phone number is invalid",
        "Errors.User.Phone.NotFound" => "Phone not found",
        "Errors.User.Password.Invalid" => "Password is invalid",
        "Errors.User.Password.Empty" => "Password is empty",
        "Errors.User.Password.NotChanged" => {
            "New password cannot be the same as your current password"
        }
        "Errors.User.Password.Hash.Unsupported" => "The password hash format is not supported",
        "Errors.User.Machine.NotChanged" => "Machine not changed",
        "Errors.User.Machine.Secret.NotExisting" => "Machine secret does not exist",
        "Errors.User.PAT.NotFound" => "Personal access token not found",
        "Errors.User.Key.NotFound" => "Machine key not found",
        "Errors.User.Key.Invalid" => "Machine key is invalid",
        "Errors.PasswordComplexityPolicy.MinLength" => "Password is too short",
        "Errors.PasswordComplexityPolicy.HasLower" => "Password must contain a lower case letter",
        "Errors.PasswordComplexityPolicy.HasUpper" => "Password must contain an upper case letter",
        "Errors.PasswordComplexityPolicy.HasNumber" => "Password must contain a number",
        "Errors.PasswordComplexityPolicy.HasSymbol" => "Password must contain a symbol",
        "Errors.Metadata.NotFound" => "Metadata not found",
        "Errors.Metadata.Invalid" => "Metadata is invalid",
        "Errors.Member.NotFound" => "Member does not exist",
        "Errors.Member.AlreadyExists" => "Member already exists",
        "Errors.Member.Invalid" => "Member is invalid",
        "Errors.Member.RolesNotChanged" => "Roles have not been changed",
        "Errors.Project.NotFound" => "Project could not be found",
        "Errors.Project.AlreadyExists" => "Project already exists on organisation",
        "Errors.Project.NotChanged" => "Project has not been changed",
        "Errors.Project.NotActive" => "Project is not active",
        "Errors.Project.NotInactive" => "Project is not deactivated",
        "Errors.Project.Role.NotFound" => "Role could not be found",
        "Errors.Project.Role.AlreadyExists" => "Role already exists",
        "Errors.Project.Role.NotChanged" => "Role has not been changed",
        "Errors.Project.Grant.NotFound" => "Project grant could not be found",
        "Errors.Project.Grant.AlreadyExists" => "Project grant already exists",
        "Errors.Project.Grant.Invalid" => "Project grant is invalid",
        "Errors.Project.Grant.NotChanged" => "Project grant has not been changed",
        "Errors.Project.Grant.NotActive" => "Project grant is not active",
        "Errors.Project.Grant.NotInactive" => "Project grant is not deactivated",
        "Errors.Project.App.NotFound" => "Application could not be found",
        "Errors.Project.App.AlreadyExists" => "Application already exists",
        "Errors.Project.App.Invalid" => "Application is invalid",
        "Errors.Project.App.NotChanged" => "Application has not been changed",
        "Errors.Project.App.NotActive" => "Application is not active",
        "Errors.Project.App.NotInactive" => "Application is not deactivated",
        "Errors.Project.App.IsNotOIDC" => "Application is not an OIDC application",
        "Errors.Project.App.IsNotAPI" => "Application is not an API application",
        "Errors.Project.App.IsNotSAML" => "Application is not a SAML application",
        "Errors.Project.App.OIDCAuthMethodNoSecret" => {
            "The auth method of the OIDC application does not use a client secret"
        }
        "Errors.Project.App.APIAuthMethodNoSecret" => {
            "The auth method of the API application does not use a client secret"
        }
        "Errors.Project.App.AuthMethodNoPrivateKeyJWT" => {
            "The auth method of the application is not private_key_jwt; keys cannot be added"
        }
        "Errors.Project.App.ClientIDAlreadyExists" => "The client id is already taken",
        "Errors.Project.App.SAMLMetadataMissing" => "SAML metadata is missing",
        "Errors.Project.App.SAMLMetadataFormat" => "SAML metadata is invalid",
        "Errors.Project.App.SAMLMetadataUnreachable" => "SAML metadata could not be fetched",
        "Errors.Project.App.SAMLEntityIDAlreadyExists" => "The SAML entity ID already exists",
        "Errors.Project.App.Key.NotFound" => "Application key could not be found",
        "Errors.Project.App.Key.AlreadyExists" => "Application key already exists",
        "Application.OIDC.UnsupportedVersion" => "The OIDC version is not supported",
        "Application.OIDC.V1.NotCompliant" => {
            "The configuration does not comply with the OIDC specification"
        }
        "Application.OIDC.V1.NoRedirectUris" => "At least one redirect URI must be set",
        "Application.OIDC.V1.NotAllCombinationsAreAllowed" => {
            "The configuration is compliant, but not every combination of its settings is allowed"
        }
        "Application.OIDC.V1.GrantType.Refresh.NoAuthCode" => {
            "Refresh tokens are only allowed together with the authorization code grant"
        }
        "Application.OIDC.V1.Code.RedirectUris.CustomOnlyForNative" => {
            "Custom redirect URI schemes are only allowed for native apps with the code flow"
        }
        "Application.OIDC.V1.Code.RedirectUris.HttpOnlyForWeb" => {
            "http redirect URIs are only allowed for web apps with the code flow"
        }
        "Application.OIDC.V1.Implicit.RedirectUris.CustomNotAllowed" => {
            "Custom redirect URI schemes are not allowed with the implicit flow"
        }
        "Application.OIDC.V1.Implicit.RedirectUris.HttpNotAllowed" => {
            "http redirect URIs are not allowed with the implicit flow"
        }
        "Application.OIDC.V1.Native.AuthMethodType.NotNone" => {
            "Native apps must use the auth method NONE"
        }
        "Application.OIDC.V1.Native.RedirectUris.MustBeHttpLocalhost" => {
            "http redirect URIs of native apps must point to localhost or a loopback address"
        }
        "Application.OIDC.V1.UserAgent.AuthMethodType.NotNone" => {
            "User agent apps must use the auth method NONE"
        }
        "Errors.UserGrant.NotFound" => "User grant could not be found",
        "Errors.UserGrant.AlreadyExists" => "User grant already exists",
        "Errors.UserGrant.NotChanged" => "User grant has not been changed",
        "Errors.UserGrant.NotActive" => "User grant is not active",
        "Errors.UserGrant.NotInactive" => "User grant is not deactivated",
        "Errors.UserGrant.RoleKeyNotFound" => "Role key not found",
        "Errors.Org.PasswordComplexityPolicy.NotFound" => "Password complexity policy not found",
        "Errors.Org.PasswordComplexityPolicy.AlreadyExists" => {
            "Password complexity policy already exists"
        }
        "Errors.Org.PasswordComplexityPolicy.NotChanged" => {
            "Password complexity policy has not been changed"
        }
        "Errors.Org.LockoutPolicy.NotFound" => "Lockout policy not found",
        "Errors.Org.LockoutPolicy.AlreadyExists" => "Lockout policy already exists",
        "Errors.Org.LockoutPolicy.NotChanged" => "Lockout policy has not been changed",
        "Errors.Org.PasswordAgePolicy.NotFound" => "Password age policy not found",
        "Errors.Org.PasswordAgePolicy.AlreadyExists" => "Password age policy already exists",
        "Errors.Org.PasswordAgePolicy.NotChanged" => "Password age policy has not been changed",
        "Errors.Org.PrivacyPolicy.NotFound" => "Privacy policy not found",
        "Errors.Org.PrivacyPolicy.AlreadyExists" => "Privacy policy already exists",
        "Errors.Org.PrivacyPolicy.NotChanged" => "Privacy policy has not been changed",
        "Errors.Org.LoginPolicy.NotFound" => "Login policy not found",
        "Errors.Org.LoginPolicy.AlreadyExists" => "Login policy already exists",
        "Errors.Org.LoginPolicy.NotChanged" => "Login policy has not been changed",
        "Errors.Org.LabelPolicy.NotFound" => "Label policy not found",
        "Errors.Org.LabelPolicy.AlreadyExists" => "Label policy already exists",
        "Errors.Org.LabelPolicy.NotChanged" => "Label policy has not been changed",
        "Errors.Policy.Invalid" => "Policy is invalid",
        "Errors.Policy.Domain.UserNamesNotUnique" => "User names are not unique in the instance",
        "Errors.LoginPolicy.MFA.AlreadyExists" => "The factor is already allowed",
        "Errors.LoginPolicy.MFA.NotExisting" => "The factor is not allowed",
        "Errors.Org.DomainPolicy.NotFound" => "The organisation has no domain policy of its own",
        "Errors.Org.DomainPolicy.AlreadyExists" => "The organisation already has a domain policy",
        "Errors.Org.DomainPolicy.NotChanged" => "The domain policy has not been changed",
        "Errors.Org.NotificationPolicy.NotFound" => {
            "The organisation has no notification policy of its own"
        }
        "Errors.Org.NotificationPolicy.AlreadyExists" => "The notification policy already exists",
        "Errors.Org.NotificationPolicy.NotChanged" => {
            "The notification policy has not been changed"
        }
        "Errors.Masterkey.Invalid" => "The masterkey is invalid",
        "Errors.SecretGenerator.TypeMissing" => "The secret generator type is missing or unknown",
        "Errors.SecretGenerator.NotFound" => "Secret generator not found",
        "Errors.NoChangesFound" => "No changes found",
        "Errors.SecretGenerator.Invalid" => "The secret generator settings are invalid",
        "Errors.OIDCSettings.Invalid" => "The OIDC settings are invalid",
        "Errors.OIDCSettings.AlreadyExists" => "The OIDC settings already exist",
        "Errors.OIDCSettings.NotFound" => "The OIDC settings have not been added yet",
        "Errors.SMTPConfig.NotFound" => "SMTP configuration not found",
        "Errors.SMTPConfig.AlreadyActive" => "The SMTP configuration is already active",
        "Errors.SMTPConfig.AlreadyDeactivated" => "The SMTP configuration is already deactivated",
        "Errors.SMTPConfig.SenderAdressNotCustomDomain" => {
            "The sender address must be on a verified domain of the instance"
        }
        "Errors.SMTPConfig.TestEmailNotFound" => "The receiver address of the test mail is missing",
        "Errors.SMTPConfig.Invalid" => "The SMTP configuration is invalid",
        "Errors.SMTPConfig.SendFailed" => "The test mail could not be sent",
        "Errors.Assets.NotFound" => "Asset not found",
        "Errors.Assets.Empty" => "The uploaded file is empty",
        "Errors.Assets.Type.Invalid" => "The file type is not allowed",
        "Errors.Assets.TooLarge" => "The file is too large",
        "Errors.Assets.Form.Invalid" => "The upload form is invalid",
        "Errors.Event.NotFound" => "Event not found",
        "Errors.Concurrent.Modification" => "The object was changed concurrently; retry",
        "Errors.Unimplemented" => "Not implemented",
        "Errors.Unavailable" => "Service unavailable",
        _ => key,
    }
}
