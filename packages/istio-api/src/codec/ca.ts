// The Istio CA API (istio.v1.auth.IstioCertificateService): its gRPC method path. Its messages go through
// encodeMessage / decodeMessage ('istio.v1.auth.IstioCertificateRequest' / '...Response').

export const ISTIO_CA_SERVICE_NAME = 'istio.v1.auth.IstioCertificateService';
/** gRPC path of CreateCertificate. */
export const CREATE_CERTIFICATE_PATH = `/${ISTIO_CA_SERVICE_NAME}/CreateCertificate`;
