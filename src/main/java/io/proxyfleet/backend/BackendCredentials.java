package io.proxyfleet.backend;

/**
 * What the proxy logs in to a backend with. mysql_native_password needs only SHA1(password), which the frontend
 * learns from a client's successful native login even when mysql_users stores the password hashed;
 * caching_sha2_password needs the clear password.
 *
 * @param clearPassword the clear password, or {@code null} when only its hash is known
 * @param stage1        SHA1(password), or {@code null} for an empty password
 */
public record BackendCredentials(String username, String clearPassword, byte[] stage1) {
}
