// Decrypts a tenant password the way Fineract does: the body of
// EncryptionUtil.decryptFromBase64 and generateKeySpec, apache/fineract
// 4198b0bcf9a94e1c7aa0f386317ba71f40ceb1d9
// fineract-core/src/main/java/org/apache/fineract/infrastructure/security/utils/EncryptionUtil.java,
// with Cipher "AES/CBC/PKCS5Padding" (DatabasePasswordEncryptor.DEFAULT_ENCRYPTION).
// Usage: java Decrypt.java MASTER BASE64 (test data only: the values are
// made up by the test).
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

public class Decrypt {
    public static void main(String[] args) throws Exception {
        String masterPassword = args[0];
        String encryptedData = args[1];
        Cipher cipher = Cipher.getInstance("AES/CBC/PKCS5Padding");
        byte[] rawData = Base64.getDecoder().decode(encryptedData);
        byte[] ivBytes = new byte[16];
        byte[] salt = new byte[16];
        byte[] ciphertext = new byte[rawData.length - 32];
        System.arraycopy(rawData, 0, ivBytes, 0, 16);
        System.arraycopy(rawData, 16, salt, 0, 16);
        System.arraycopy(rawData, 32, ciphertext, 0, rawData.length - 32);
        PBEKeySpec spec = new PBEKeySpec(masterPassword.toCharArray(), salt, 65536, 256);
        byte[] key = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA1").generateSecret(spec).getEncoded();
        cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(ivBytes));
        System.out.print(new String(cipher.doFinal(ciphertext), StandardCharsets.UTF_8));
    }
}
